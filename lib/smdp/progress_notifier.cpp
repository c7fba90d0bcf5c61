// Background delivery of queued handleDownloadProgressInfo calls (SGP.22
// §5.3.5). The store's outbox makes delivery at-least-once across restarts
// and nodes; this thread only claims, sends and records the outcome.

#include "esimguard/smdp/progress_notifier.hpp"

#include "esimguard/rsp/es2p.hpp"
#include "esimguard/rsp/es9p.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace esimguard::smdp {

namespace {

class notifier_impl final : public progress_notifier {
public:
    notifier_impl(progress_notifier_config config, store::store& db)
        : config_(std::move(config)), db_(db) {
        log_ = spdlog::get("smdp");
        if (!log_) {
            log_ = spdlog::default_logger();
        }
    }
    ~notifier_impl() override { stop(); }

    void start() override {
        std::lock_guard lock(mutex_);
        if (thread_.joinable()) {
            return;
        }
        stopping_ = false;
        thread_ = std::thread([this] { loop(); });
    }

    void stop() override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
            thread_.join();
        }
    }

    std::size_t run_once() override {
        const auto now = clock();
        auto due = db_.claim_due_notifications(
            now, config_.batch,
            std::chrono::duration_cast<std::chrono::microseconds>(config_.lease));
        if (!due) {
            log_->warn("progress notifier: outbox unavailable: {}", due.error().message);
            return 0;
        }
        std::size_t delivered = 0;
        for (const auto& m : *due) {
            auto sent = deliver(m);
            if (sent) {
                (void)db_.mark_notification_delivered(m.id, clock());
                ++delivered;
                continue;
            }
            auto r = db_.reschedule_notification(m.id, config_.retry, sent.error(), clock());
            if (r && r->state == store::outbox_state::failed) {
                log_->warn("progress info {} to operator {} given up after {} attempts: {}", m.id,
                           m.operator_id, r->attempts, sent.error());
            } else {
                log_->info("progress info {} to operator {} failed, will retry: {}", m.id,
                           m.operator_id, sent.error());
            }
        }
        return delivered;
    }

private:
    store::time_point clock() const {
        return config_.clock ? config_.clock() : std::chrono::system_clock::now();
    }

    std::expected<void, std::string> deliver(const store::outbox_message& m) {
        auto op = db_.find_operator(m.operator_id);
        if (!op) {
            return std::unexpected("operator unknown");
        }
        if (!op->download_progress_url) {
            return std::unexpected("operator has no progress URL");
        }
        const std::string url = *op->download_progress_url +
                                (op->download_progress_url->ends_with("/") ? "" : "/") +
                                "handleDownloadProgressInfo";
        if (config_.sender) {
            return config_.sender(url, m.body);
        }
        return send_http(url, m.body);
    }

    std::expected<void, std::string> send_http(const std::string& url, const std::string& body) {
        if (!client_) {
            auto c = http::client::create(config_.client);
            if (!c) {
                return std::unexpected(fmt::format("client: {}", c.error().detail));
            }
            client_ = std::make_unique<http::client>(std::move(*c));
        }
        const http::header_list headers{
            {"Content-Type", "application/json"},
            {"X-Admin-Protocol", std::string(rsp::admin_protocol_value)}};
        auto r = client_->post(url, body, headers);
        if (!r) {
            return std::unexpected(
                fmt::format("{}: {}", http::to_string(r.error().code), r.error().detail));
        }
        if (r->status < 200 || r->status >= 300) {
            return std::unexpected(fmt::format("HTTP {}", r->status));
        }
        if (!r->body.empty()) {
            auto h = rsp::parse_header_only_response(r->body);
            if (!h && h.error().reported_by_peer) {
                return std::unexpected(
                    fmt::format("operator answered {}", rsp::to_string(h.error().detail)));
            }
        }
        return {};
    }

    void loop() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            lock.unlock();
            std::size_t n = 0;
            try {
                n = run_once();
            } catch (const std::exception& e) {
                log_->error("progress notifier round failed: {}", e.what());
            }
            lock.lock();
            if (n == 0) {
                wake_.wait_for(lock, config_.poll_interval, [this] { return stopping_; });
            }
        }
    }

    progress_notifier_config config_;
    store::store& db_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<http::client> client_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace

std::unique_ptr<progress_notifier> create_progress_notifier(progress_notifier_config config,
                                                            store::store& db) {
    return std::make_unique<notifier_impl>(std::move(config), db);
}

} // namespace esimguard::smdp
