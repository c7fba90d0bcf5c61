#pragma once
// A webhook receiver for tests: the real esimguard http::server on loopback
// (HTTPS with a test certificate, or plain HTTP when asked), recording every
// POST it gets and checking its signature as an operator's receiver would,
// with defense::verify_webhook. A delivery whose signature does not verify is
// recorded too (signature_ok false) and answered 401, so that a test sees a
// server signing with the wrong secret instead of waiting for nothing.

#include "esimguard/defense/alerts.hpp"
#include "esimguard/defense/webhook.hpp"
#include "esimguard/http/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace esimguard::test {

class webhook_sink {
public:
    /// One POST as received.
    struct delivery {
        std::string path;
        std::string body;
        std::string timestamp;
        std::string signature;
        /// verify_webhook(secret, timestamp, signature, body, now) succeeded.
        bool signature_ok = false;
        /// The alert parsed from the body, when it parses.
        std::optional<defense::alert> alert;
    };

    /// Where the sink listens and how.
    struct options {
        std::string secret;
        /// Empty serves plain HTTP; otherwise the TLS chain and key (PEM).
        std::filesystem::path certificate_chain_file = {};
        std::filesystem::path private_key_file = {};
        std::string path = "/hooks/esimguard";
    };

    /// Starts on 127.0.0.1:<ephemeral>; reports a test failure when it cannot.
    explicit webhook_sink(options o) : options_(std::move(o)) {
        http::server_config c;
        c.bind_address = "127.0.0.1";
        c.port = 0;
        c.worker_threads = 1;
        c.plain_http = options_.certificate_chain_file.empty();
        c.certificate_chain_file = options_.certificate_chain_file;
        c.private_key_file = options_.private_key_file;
        server_ = std::make_unique<http::server>(c);
        server_->add_route("POST", options_.path,
                           [this](const http::request& req) { return receive(req); });
        auto started = server_->start();
        if (!started) {
            ADD_FAILURE() << "webhook sink did not start: " << started.error().detail;
            server_.reset();
        }
    }
    ~webhook_sink() { stop(); }
    webhook_sink(const webhook_sink&) = delete;
    webhook_sink& operator=(const webhook_sink&) = delete;

    void stop() {
        if (server_) {
            server_->stop();
        }
    }

    [[nodiscard]] bool running() const { return server_ != nullptr; }

    /// The URL to configure as the server's webhook: https://localhost:<port>/...
    /// (the test certificate names localhost) or http://127.0.0.1:<port>/...
    [[nodiscard]] std::string url() const {
        const bool tls = !options_.certificate_chain_file.empty();
        return std::string(tls ? "https://localhost:" : "http://127.0.0.1:") +
               std::to_string(server_ ? server_->port() : 0) + options_.path;
    }

    [[nodiscard]] std::vector<delivery> deliveries() const {
        std::lock_guard lock(mutex_);
        return received_;
    }

    /// Waits (bounded) until a delivery whose alert names `rule` arrived;
    /// deliveries arrive from the server's dispatcher thread, so a test must
    /// wait for them rather than expect them at once.
    [[nodiscard]] std::optional<delivery>
    wait_for_rule(std::string_view rule,
                  std::chrono::milliseconds timeout = std::chrono::seconds{15}) const {
        std::unique_lock lock(mutex_);
        std::optional<delivery> found;
        arrived_.wait_for(lock, timeout, [&] {
            for (const auto& d : received_) {
                if (d.alert && d.alert->rule == rule) {
                    found = d;
                    return true;
                }
            }
            return false;
        });
        return found;
    }

private:
    http::response receive(const http::request& req) {
        delivery d;
        d.path = req.path;
        d.body = req.body;
        d.timestamp = std::string(
            http::find_header(req.headers, defense::webhook_timestamp_header).value_or(""));
        d.signature = std::string(
            http::find_header(req.headers, defense::webhook_signature_header).value_or(""));
        d.signature_ok = defense::verify_webhook(options_.secret, d.timestamp, d.signature, d.body,
                                                 std::chrono::system_clock::now())
                             .has_value();
        if (auto a = defense::parse_alert_json(d.body)) {
            d.alert = std::move(*a);
        }
        const bool ok = d.signature_ok;
        {
            std::lock_guard lock(mutex_);
            received_.push_back(std::move(d));
        }
        arrived_.notify_all();
        return ok ? http::response::with_body(204, "")
                  : http::response::with_body(401, "bad signature\n");
    }

    options options_;
    std::unique_ptr<http::server> server_;
    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    std::vector<delivery> received_;
};

} // namespace esimguard::test
