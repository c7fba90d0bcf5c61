// The vpcd client against a tiny fake vpcd: a TCP listener on 127.0.0.1,
// port 0, that plays the reader's side of the vsmartcard protocol.

#include "esimguard/apdu/links.hpp"

#include "fakes/recording_card.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace esimguard;
using namespace esimguard::apdu;
using namespace std::chrono_literals;

namespace {

/// The reader side: listens, accepts one card at a time, frames messages.
class fake_vpcd {
public:
    fake_vpcd() {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(listener_, 4), 0);
        socklen_t len = sizeof addr;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
        // A broken client must fail the test, not hang it.
        timeval tv{5, 0};
        ::setsockopt(listener_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~fake_vpcd() {
        drop();
        ::close(listener_);
    }

    bool accept_card() {
        conn_ = ::accept(listener_, nullptr, nullptr);
        if (conn_ < 0) {
            return false;
        }
        timeval tv{5, 0};
        ::setsockopt(conn_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return true;
    }
    void drop() {
        if (conn_ >= 0) {
            ::close(conn_);
            conn_ = -1;
        }
    }
    void send_frame(const bytes& payload) {
        bytes frame{static_cast<std::uint8_t>(payload.size() >> 8),
                    static_cast<std::uint8_t>(payload.size())};
        frame.insert(frame.end(), payload.begin(), payload.end());
        ASSERT_EQ(::send(conn_, frame.data(), frame.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(frame.size()));
    }
    std::optional<bytes> read_frame() {
        std::uint8_t header[2];
        if (!read_exact(header, 2)) {
            return std::nullopt;
        }
        bytes payload(static_cast<std::size_t>(header[0] << 8 | header[1]));
        if (!read_exact(payload.data(), payload.size())) {
            return std::nullopt;
        }
        return payload;
    }

    std::uint16_t port = 0;

private:
    bool read_exact(std::uint8_t* out, std::size_t n) {
        std::size_t got = 0;
        while (got < n) {
            const ssize_t r = ::recv(conn_, out + got, n - got, 0);
            if (r <= 0) {
                return false;
            }
            got += static_cast<std::size_t>(r);
        }
        return true;
    }

    int listener_ = -1;
    int conn_ = -1;
};

} // namespace

TEST(vpcd_client, answers_power_on_atr_request_and_apdus_then_ends_when_vpcd_closes) {
    fake_vpcd vpcd;
    fakes::recording_card card([](byte_view) { return bytes{0xBF, 0x3E, 0x00, 0x90, 0x00}; });
    vpcd_client client(card, {.host = "127.0.0.1", .port = vpcd.port});
    auto session = std::async(std::launch::async, [&] { return client.serve_once(); });

    ASSERT_TRUE(vpcd.accept_card());
    vpcd.send_frame({0x01}); // power on
    vpcd.send_frame({0x04}); // ATR?
    EXPECT_EQ(vpcd.read_frame(), card.atr);
    const bytes command{0x81, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x3E, 0x00};
    vpcd.send_frame(command);
    EXPECT_EQ(vpcd.read_frame(), (bytes{0xBF, 0x3E, 0x00, 0x90, 0x00}));
    vpcd.send_frame({0x00}); // power off
    vpcd.send_frame({0x02}); // reset
    vpcd.send_frame({0x04});
    EXPECT_EQ(vpcd.read_frame(), card.atr);
    vpcd.drop();

    ASSERT_EQ(session.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(session.get(), vpcd_end::peer_closed);
    ASSERT_EQ(card.commands.size(), 1u);
    EXPECT_EQ(card.commands[0], command);
    EXPECT_EQ(card.resets, 2);
    EXPECT_EQ(card.power_offs, 1);
}

TEST(vpcd_client, when_vpcd_closes_then_run_connects_again) {
    fake_vpcd vpcd;
    fakes::recording_card card;
    vpcd_client client(card, {.host = "127.0.0.1", .port = vpcd.port, .reconnect_delay = 10ms});
    std::thread runner([&] { client.run(); });

    ASSERT_TRUE(vpcd.accept_card());
    vpcd.send_frame({0x00, 0xA4, 0x04, 0x00});
    EXPECT_EQ(vpcd.read_frame(), (bytes{0x90, 0x00}));
    vpcd.drop();
    ASSERT_TRUE(vpcd.accept_card());
    vpcd.send_frame({0x04});
    EXPECT_EQ(vpcd.read_frame(), card.atr);

    client.stop();
    runner.join();
    vpcd.drop();
}

TEST(vpcd_client, when_nobody_listens_then_serve_once_reports_connect_failed) {
    std::uint16_t port = 0;
    {
        fake_vpcd closed_soon;
        port = closed_soon.port;
    }
    fakes::recording_card card;
    vpcd_client client(card, {.host = "127.0.0.1", .port = port});
    EXPECT_EQ(client.serve_once(), vpcd_end::connect_failed);
}
