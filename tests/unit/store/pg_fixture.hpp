#pragma once
// The PostgreSQL server a test talks to: started by scripts/pg-test-server
// around the test executable (ctest does that), which passes its URL in
// ESIMGUARD_TEST_PG_URL. Each fixture works in a schema of its own, so tests
// in one process never see each other's rows.

#include "esimguard/store/postgres_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace esimguard::store::testing {

/// The server's URL; an empty string (and a test failure) when the test was
/// not started under scripts/pg-test-server: a missing server must fail,
/// never skip, or the PostgreSQL backend would go untested unnoticed.
inline std::string pg_url() {
    const char* url = std::getenv("ESIMGUARD_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
        ADD_FAILURE() << "ESIMGUARD_TEST_PG_URL is not set: run this test under "
                         "scripts/pg-test-server run -- <test>";
        return "";
    }
    return url;
}

/// A schema name no other fixture of any process uses.
inline std::string unique_pg_schema() {
    static std::atomic<int> counter{0};
    return "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

/// A configuration on a fresh schema of the test server.
inline postgres_config fresh_pg_config(std::size_t connections = 8) {
    postgres_config c;
    c.url = pg_url();
    c.schema = unique_pg_schema();
    c.connections = connections;
    return c;
}

} // namespace esimguard::store::testing
