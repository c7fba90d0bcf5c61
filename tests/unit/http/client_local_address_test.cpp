// The client's local_address option: the server sees the bound source
// address, so tests can play many clients from distinct loopback addresses.

#include "esimguard/http/client.hpp"
#include "esimguard/http/server.hpp"

#include <gtest/gtest.h>

#include <string>

namespace esimguard::http {
namespace {

class client_local_address : public ::testing::Test {
protected:
    void SetUp() override {
        server_config c;
        c.plain_http = true;
        c.worker_threads = 1;
        server_ = std::make_unique<server>(c);
        server_->add_route("GET", "/peer", [](const request& req) {
            return response::with_body(200, req.peer_address);
        });
        ASSERT_TRUE(server_->start().has_value());
    }
    void TearDown() override { server_->stop(); }

    result<client_response> get_from(std::string local, std::string host = "127.0.0.1") {
        client_config cc;
        cc.local_address = std::move(local);
        auto c = client::create(cc);
        EXPECT_TRUE(c.has_value());
        return c->get("http://" + host + ":" + std::to_string(server_->port()) + "/peer");
    }

    std::unique_ptr<server> server_;
};

TEST_F(client_local_address, when_a_local_address_is_set_then_the_server_sees_it_as_the_peer) {
    for (const std::string a : {"127.0.0.2", "127.0.1.3"}) {
        auto r = get_from(a);
        ASSERT_TRUE(r.has_value()) << r.error().detail;
        EXPECT_EQ(r->body, a);
    }
}

TEST_F(client_local_address,
       when_the_host_name_resolves_to_several_families_then_the_bound_one_is_used) {
    auto r = get_from("127.0.0.5", "localhost");
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    EXPECT_EQ(r->body, "127.0.0.5");
}

TEST_F(client_local_address, when_the_local_address_is_not_an_address_then_the_call_fails_cleanly) {
    auto r = get_from("not-an-address");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::bad_config);
}

TEST_F(client_local_address, without_a_local_address_the_kernel_picks_loopback) {
    auto r = get_from("");
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    EXPECT_EQ(r->body, "127.0.0.1");
}

} // namespace
} // namespace esimguard::http
