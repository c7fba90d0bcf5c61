// The lpac side of lpac's stdio APDU protocol (driver/apdu/stdio.c): a card
// program runs as our child; we write requests to its stdin and read answers
// from its stdout, one JSON object per line.

#include "logger.hpp"

#include "esimguard/apdu/transports.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace esimguard::apdu {

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

transport_error io_error(std::string detail) {
    return transport_error{transport_error::code::io, std::move(detail)};
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) {
        return fmt::format("exited with status {}", WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return fmt::format("killed by signal {}", WTERMSIG(status));
    }
    return "stopped";
}

class subprocess_transport_impl final : public transport {
public:
    explicit subprocess_transport_impl(subprocess_options options) : options_(std::move(options)) {}
    ~subprocess_transport_impl() override { stop_child(); }

    transport_result<void> connect() override {
        if (pid_ < 0) {
            if (auto s = start_child(); !s) {
                return s;
            }
        }
        auto r = call("connect", std::nullopt);
        if (!r) {
            return std::unexpected(r.error());
        }
        if (r->ecode < 0) {
            return std::unexpected(
                io_error(fmt::format("card program refused connect (ecode {})", r->ecode)));
        }
        return {};
    }

    void disconnect() override {
        if (pid_ >= 0) {
            // The answer does not matter: the child is ended right after.
            (void)call("disconnect", std::nullopt);
        }
        stop_child();
    }

    transport_result<int> open_logical_channel(byte_view aid) override {
        auto r = call("logic_channel_open", to_bytes(aid));
        if (!r) {
            return std::unexpected(r.error());
        }
        if (r->ecode < 0) {
            return std::unexpected(transport_error{
                transport_error::code::no_channel,
                fmt::format("card program refused logic_channel_open (ecode {})", r->ecode)});
        }
        return r->ecode;
    }

    void close_logical_channel(int channel) override {
        if (pid_ >= 0 && channel >= 0 && channel <= 0xFF) {
            (void)call("logic_channel_close", bytes{static_cast<std::uint8_t>(channel)});
        }
    }

    transport_result<bytes> transmit(byte_view command) override {
        auto r = call("transmit", to_bytes(command));
        if (!r) {
            return std::unexpected(r.error());
        }
        if (r->ecode < 0) {
            return std::unexpected(
                transport_error{transport_error::code::io,
                                fmt::format("card program failed transmit (ecode {})", r->ecode)});
        }
        if (!r->data) {
            return std::unexpected(transport_error{transport_error::code::protocol,
                                                   "transmit answer carries no data"});
        }
        return std::move(*r->data);
    }

private:
    struct answer {
        int ecode = 0;
        std::optional<bytes> data;
    };

    transport_result<void> start_child() {
        if (options_.argv.empty()) {
            return std::unexpected(io_error("no program to start"));
        }
        // Socket pairs instead of pipes: send(MSG_NOSIGNAL) turns a dead
        // child into EPIPE instead of a SIGPIPE that would kill the LPA.
        int in_pair[2];
        int out_pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
            return std::unexpected(io_error(fmt::format("socketpair: {}", std::strerror(errno))));
        }
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out_pair) != 0) {
            const int e = errno;
            ::close(in_pair[0]);
            ::close(in_pair[1]);
            return std::unexpected(io_error(fmt::format("socketpair: {}", std::strerror(e))));
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        // dup2 clears close-on-exec on the child's copies only.
        posix_spawn_file_actions_adddup2(&actions, in_pair[1], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, out_pair[1], STDOUT_FILENO);
        std::vector<char*> argv;
        for (auto& a : options_.argv) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        pid_t pid = -1;
        const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(in_pair[1]);
        ::close(out_pair[1]);
        if (rc != 0) {
            ::close(in_pair[0]);
            ::close(out_pair[0]);
            return std::unexpected(
                io_error(fmt::format("cannot start {}: {}", options_.argv[0], std::strerror(rc))));
        }
        pid_ = pid;
        to_child_ = in_pair[0];
        from_child_ = out_pair[0];
        pending_.clear();
        detail::apdu_logger()->debug("started card program {} (pid {})", options_.argv[0], pid_);
        return {};
    }

    /// Ends the child: closes its stdin and waits `grace`, then SIGTERM, then
    /// SIGKILL; always reaps it. A child already known to misbehave gets no grace.
    void stop_child(std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) {
        if (to_child_ >= 0) {
            ::close(to_child_);
            to_child_ = -1;
        }
        if (from_child_ >= 0) {
            ::close(from_child_);
            from_child_ = -1;
        }
        if (pid_ < 0) {
            return;
        }
        int status = 0;
        if (!wait_for_exit(grace, status)) {
            ::kill(pid_, SIGTERM);
            if (!wait_for_exit(std::chrono::milliseconds(2000), status)) {
                ::kill(pid_, SIGKILL);
                while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
                }
            }
        }
        pid_ = -1;
    }

    bool wait_for_exit(std::chrono::milliseconds limit, int& status) {
        const auto deadline = clock_type::now() + limit;
        while (true) {
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_ || (r < 0 && errno != EINTR)) {
                return true;
            }
            if (clock_type::now() >= deadline) {
                return false;
            }
            // Polling: SIGCHLD belongs to the application, not to a library.
            ::usleep(10'000);
        }
    }

    /// The child has gone (or is going): reap it and say how it ended.
    transport_error child_failed(std::string what) {
        std::string how = "is gone";
        if (pid_ >= 0) {
            int status = 0;
            if (wait_for_exit(std::chrono::milliseconds(500), status)) {
                how = describe_status(status);
                pid_ = -1;
            }
        }
        stop_child();
        return io_error(fmt::format("card program {} {} ({})",
                                    options_.argv.empty() ? "" : options_.argv[0], how, what));
    }

    transport_result<answer> call(std::string_view func, const std::optional<bytes>& param) {
        if (pid_ < 0) {
            return std::unexpected(transport_error{transport_error::code::not_connected,
                                                   "card program is not running"});
        }
        json payload = {{"func", func}, {"param", nullptr}};
        if (param && !param->empty()) {
            payload["param"] = to_hex_upper(*param);
        }
        std::string line = json{{"type", "apdu"}, {"payload", std::move(payload)}}.dump() + "\n";
        if (auto w = write_all(line); !w) {
            return std::unexpected(w.error());
        }
        auto text = read_line();
        if (!text) {
            return std::unexpected(text.error());
        }
        json reply = json::parse(*text, nullptr, /*allow_exceptions=*/false);
        auto bad = [&](std::string_view why) {
            // The stream may be out of step now: start afresh on next connect.
            stop_child(std::chrono::milliseconds(0));
            return std::unexpected(transport_error{
                transport_error::code::protocol, fmt::format("card program answered {} with {}: {}",
                                                             func, why, text->substr(0, 200))});
        };
        if (reply.is_discarded() || !reply.is_object()) {
            return bad("a line that is not a JSON object");
        }
        auto type = reply.find("type");
        auto body = reply.find("payload");
        if (type == reply.end() || *type != "apdu" || body == reply.end() || !body->is_object()) {
            return bad("no apdu payload");
        }
        auto ecode = body->find("ecode");
        if (ecode == body->end() || !ecode->is_number_integer()) {
            return bad("no integer ecode");
        }
        answer a;
        a.ecode = ecode->get<int>();
        if (auto d = body->find("data"); d != body->end() && d->is_string()) {
            a.data = from_hex(d->get_ref<const std::string&>());
            if (!a.data) {
                return bad("data that is not hex");
            }
        }
        return a;
    }

    transport_result<void> write_all(std::string_view text) {
        while (!text.empty()) {
            const ssize_t n = ::send(to_child_, text.data(), text.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return std::unexpected(
                    child_failed(fmt::format("write: {}", std::strerror(errno))));
            }
            text.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }

    transport_result<std::string> read_line() {
        const auto deadline = clock_type::now() + options_.timeout;
        while (true) {
            if (auto nl = pending_.find('\n'); nl != std::string::npos) {
                std::string line = pending_.substr(0, nl);
                pending_.erase(0, nl + 1);
                if (!line.empty() && line.back() == '\r') {
                    line.pop_back();
                }
                return line;
            }
            if (pending_.size() > options_.max_line) {
                stop_child(std::chrono::milliseconds(0));
                return std::unexpected(transport_error{
                    transport_error::code::protocol,
                    fmt::format("card program's answer exceeds {} bytes", options_.max_line)});
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
            if (left.count() <= 0) {
                stop_child(std::chrono::milliseconds(0));
                return std::unexpected(io_error(fmt::format(
                    "card program gave no answer within {} ms", options_.timeout.count())));
            }
            pollfd p{from_child_, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return std::unexpected(child_failed(fmt::format("poll: {}", std::strerror(errno))));
            }
            if (ready == 0) {
                continue;
            }
            char buf[4096];
            const ssize_t n = ::recv(from_child_, buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) {
                    continue;
                }
                return std::unexpected(child_failed(fmt::format("read: {}", std::strerror(errno))));
            }
            if (n == 0) {
                return std::unexpected(child_failed("its stdout closed"));
            }
            pending_.append(buf, static_cast<std::size_t>(n));
        }
    }

    subprocess_options options_;
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string pending_;
};

} // namespace

std::unique_ptr<transport> create_subprocess_transport(subprocess_options options) {
    return std::make_unique<subprocess_transport_impl>(std::move(options));
}

} // namespace esimguard::apdu
