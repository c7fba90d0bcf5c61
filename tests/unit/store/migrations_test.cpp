#include "store_fixture.hpp"

#include <sqlite3.h>

#include <fstream>

namespace esimguard::store::testing {
namespace {

/// Runs one SQL query on the file with the raw C API (outside the store) and
/// returns the first column of the first row as text.
std::string query(const std::filesystem::path& file, const char* sql) {
    ::sqlite3* db = nullptr;
    EXPECT_EQ(::sqlite3_open(file.c_str(), &db), SQLITE_OK);
    ::sqlite3_stmt* s = nullptr;
    std::string out;
    if (::sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK &&
        ::sqlite3_step(s) == SQLITE_ROW && ::sqlite3_column_text(s, 0)) {
        out = reinterpret_cast<const char*>(::sqlite3_column_text(s, 0));
    }
    ::sqlite3_finalize(s);
    ::sqlite3_close(db);
    return out;
}

void exec(const std::filesystem::path& file, const char* sql) {
    ::sqlite3* db = nullptr;
    ASSERT_EQ(::sqlite3_open(file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(::sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    ::sqlite3_close(db);
}

TEST(migrations, when_the_file_is_new_then_every_migration_is_applied_and_recorded) {
    temp_dir dir;
    auto file = dir.path() / "fresh.db";
    auto s = create_sqlite_store({file.string()});
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_GE(sqlite_schema_version(), 1);
    EXPECT_EQ(query(file, "SELECT max(version) FROM schema_version"),
              std::to_string(sqlite_schema_version()));
    EXPECT_EQ(query(file, "SELECT count(*) FROM sqlite_master WHERE name = 'orders'"), "1");
    EXPECT_EQ(query(file, "PRAGMA journal_mode"), "wal");
}

TEST(migrations, when_the_database_is_reopened_then_nothing_is_applied_twice_and_data_stays) {
    temp_dir dir;
    sqlite_config cfg{(dir.path() / "again.db").string()};
    {
        auto s = create_sqlite_store(cfg);
        ASSERT_TRUE(s.has_value());
        operator_record op{"op", "Op", std::string(64, 'c'), {}, {}, t0()};
        ASSERT_TRUE((*s)->add_operator(op));
    }
    for (int i = 0; i < 2; ++i) {
        auto s = create_sqlite_store(cfg);
        ASSERT_TRUE(s.has_value()) << s.error().message;
        EXPECT_TRUE((*s)->find_operator("op").has_value());
    }
    EXPECT_EQ(query(cfg.path, "SELECT count(*) FROM schema_version"),
              std::to_string(sqlite_schema_version()));
}

TEST(migrations, when_the_database_has_a_newer_schema_then_opening_is_refused) {
    temp_dir dir;
    sqlite_config cfg{(dir.path() / "newer.db").string()};
    ASSERT_TRUE(create_sqlite_store(cfg).has_value());
    auto newer = "INSERT INTO schema_version VALUES (" +
                 std::to_string(sqlite_schema_version() + 1) + ", 'from_the_future', 0)";
    exec(cfg.path, newer.c_str());
    auto s = create_sqlite_store(cfg);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, errc::schema_too_new);
    EXPECT_NE(s.error().message.find(std::to_string(sqlite_schema_version() + 1)),
              std::string::npos);
}

TEST(migrations, when_the_file_is_not_a_database_then_opening_reports_corrupt) {
    temp_dir dir;
    auto file = dir.path() / "garbage.db";
    std::ofstream(file) << std::string(4096, 'x');
    auto s = create_sqlite_store({file.string()});
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, errc::corrupt);
}

TEST(migrations, when_the_path_is_in_memory_then_a_private_database_works) {
    auto s = create_sqlite_store({":memory:"});
    ASSERT_TRUE(s.has_value()) << s.error().message;
    operator_record op{"op", "Op", std::string(64, 'c'), {}, {}, t0()};
    EXPECT_TRUE((*s)->add_operator(op));
    EXPECT_TRUE((*s)->find_operator("op").has_value());
}

TEST(migrations, when_the_directory_does_not_exist_then_opening_reports_io) {
    temp_dir dir;
    auto s = create_sqlite_store({(dir.path() / "missing" / "x.db").string()});
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, errc::io);
}

} // namespace
} // namespace esimguard::store::testing
