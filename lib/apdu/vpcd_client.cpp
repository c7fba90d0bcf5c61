// vsmartcard's virtual card protocol (vpcd/vpicc): the reader driver vpcd
// listens, the card connects. Frames are a 2-byte big-endian length and a
// payload; 1-byte payloads are controls.

#include "logger.hpp"

#include "esimguard/apdu/links.hpp"

#include <cerrno>
#include <cstring>
#include <thread>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace esimguard::apdu {

const char* to_string(vpcd_end e) {
    switch (e) {
    case vpcd_end::peer_closed:
        return "vpcd closed the connection";
    case vpcd_end::connect_failed:
        return "cannot connect to vpcd";
    case vpcd_end::io_error:
        return "I/O error";
    case vpcd_end::protocol_error:
        return "protocol error";
    case vpcd_end::stopped:
        return "stopped";
    }
    return "unknown";
}

namespace {

constexpr std::uint8_t ctrl_off = 0;
constexpr std::uint8_t ctrl_on = 1;
constexpr std::uint8_t ctrl_reset = 2;
constexpr std::uint8_t ctrl_atr = 4;

/// Owns a socket descriptor.
struct socket_fd {
    int fd = -1;
    ~socket_fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

enum class io_status { ok, closed, error, stopped };

} // namespace

vpcd_client::vpcd_client(card& target, vpcd_options options)
    : card_(target), options_(std::move(options)) {}

vpcd_client::~vpcd_client() = default;

vpcd_end vpcd_client::serve_once() {
    auto log = detail::apdu_logger();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options_.port);
    if (const int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found);
        rc != 0) {
        log->warn("vpcd: cannot resolve {}: {}", options_.host, ::gai_strerror(rc));
        return vpcd_end::connect_failed;
    }
    socket_fd sock;
    for (addrinfo* a = found; a; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            sock.fd = fd;
            break;
        }
        ::close(fd);
    }
    ::freeaddrinfo(found);
    if (sock.fd < 0) {
        log->debug("vpcd: cannot connect to {}:{}: {}", options_.host, options_.port,
                   std::strerror(errno));
        return vpcd_end::connect_failed;
    }
    const int one = 1;
    // Each APDU is a small request/response: Nagle would add 40 ms to each.
    ::setsockopt(sock.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    log->info("vpcd: card inserted into {}:{}", options_.host, options_.port);

    // Reads exactly `out.size()` bytes, waking up regularly to honour stop().
    auto read_exact = [&](std::span<std::uint8_t> out) {
        std::size_t got = 0;
        while (got < out.size()) {
            if (stopping_) {
                return io_status::stopped;
            }
            pollfd p{sock.fd, POLLIN, 0};
            const int ready = ::poll(&p, 1, 200);
            if (ready < 0 && errno != EINTR) {
                return io_status::error;
            }
            if (ready <= 0) {
                continue;
            }
            const ssize_t n = ::recv(sock.fd, out.data() + got, out.size() - got, 0);
            if (n == 0) {
                return io_status::closed;
            }
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) {
                    continue;
                }
                return io_status::error;
            }
            got += static_cast<std::size_t>(n);
        }
        return io_status::ok;
    };
    auto send_frame = [&](byte_view payload) {
        if (payload.size() > 0xFFFF) {
            return false;
        }
        bytes frame{static_cast<std::uint8_t>(payload.size() >> 8),
                    static_cast<std::uint8_t>(payload.size() & 0xFF)};
        frame.insert(frame.end(), payload.begin(), payload.end());
        std::size_t sent = 0;
        while (sent < frame.size()) {
            const ssize_t n =
                ::send(sock.fd, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return false;
            }
            sent += static_cast<std::size_t>(n);
        }
        return true;
    };
    auto ended = [&](io_status s) {
        switch (s) {
        case io_status::closed:
            log->info("vpcd: connection closed by vpcd");
            return vpcd_end::peer_closed;
        case io_status::stopped:
            return vpcd_end::stopped;
        default:
            log->warn("vpcd: read failed: {}", std::strerror(errno));
            return vpcd_end::io_error;
        }
    };

    while (true) {
        std::uint8_t header[2];
        if (auto s = read_exact(header); s != io_status::ok) {
            return ended(s);
        }
        const std::size_t length = static_cast<std::size_t>(header[0]) << 8 | header[1];
        if (length == 0) {
            log->warn("vpcd: empty frame, closing");
            return vpcd_end::protocol_error;
        }
        bytes message(length);
        if (auto s = read_exact(message); s != io_status::ok) {
            return ended(s);
        }
        if (length == 1) {
            switch (message[0]) {
            case ctrl_off:
                card_.power_off();
                log->debug("vpcd: power off");
                break;
            case ctrl_on:
            case ctrl_reset:
                atr_ = card_.reset();
                log->debug("vpcd: {}", message[0] == ctrl_on ? "power on" : "reset");
                break;
            case ctrl_atr:
                if (atr_.empty()) {
                    atr_ = card_.reset();
                }
                if (!send_frame(atr_)) {
                    log->warn("vpcd: cannot send the ATR: {}", std::strerror(errno));
                    return vpcd_end::io_error;
                }
                break;
            default:
                // Unknown controls are ignored, as vicc does: vpcd sends no others.
                log->warn("vpcd: unknown control {}", message[0]);
                break;
            }
            continue;
        }
        const bytes response = card_.transmit(message);
        if (!send_frame(response)) {
            log->warn("vpcd: cannot send a response: {}", std::strerror(errno));
            return vpcd_end::io_error;
        }
    }
}

void vpcd_client::run() {
    auto log = detail::apdu_logger();
    bool warned = false;
    while (!stopping_) {
        const vpcd_end why = serve_once();
        if (why == vpcd_end::stopped) {
            break;
        }
        if (why == vpcd_end::connect_failed) {
            // Once, not every second while vpcd (pcscd) is not up yet.
            if (!warned) {
                log->warn("vpcd: cannot reach {}:{}; retrying every {} ms", options_.host,
                          options_.port, options_.reconnect_delay.count());
                warned = true;
            }
        } else {
            warned = false;
        }
        const auto until = std::chrono::steady_clock::now() + options_.reconnect_delay;
        while (!stopping_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
}

} // namespace esimguard::apdu
