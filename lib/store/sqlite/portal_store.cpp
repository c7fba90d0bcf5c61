// The SQLite portal store (issue 5): accounts, recovery codes and browser
// sessions, on the same file as the main store with its own connections.

#include "esimguard/store/portal_store.hpp"
#include "sqlite/db.hpp"
#include "sqlite/migrations.hpp"

#include <algorithm>

namespace esimguard::store {

std::string_view to_string(portal_role r) {
    switch (r) {
    case portal_role::subscriber:
        return "subscriber";
    case portal_role::operator_staff:
        return "operator";
    case portal_role::admin:
        return "admin";
    }
    return "subscriber";
}

std::optional<portal_role> portal_role_from_string(std::string_view s) {
    if (s == "subscriber") {
        return portal_role::subscriber;
    }
    if (s == "operator") {
        return portal_role::operator_staff;
    }
    if (s == "admin") {
        return portal_role::admin;
    }
    return std::nullopt;
}

} // namespace esimguard::store

namespace esimguard::store::sqlite {

namespace {

constexpr const char* account_columns =
    "SELECT id, name, role, subscriber_id, operator_id, password_hash, totp_secret, "
    "totp_last_step, totp_pending_secret, failed_attempts, last_failure_at, created_at "
    "FROM portal_accounts ";

result<portal_account> read_account(const statement& s) {
    portal_account a;
    a.id = s.text(0);
    a.name = s.text(1);
    auto role = portal_role_from_string(s.text(2));
    if (!role) {
        return std::unexpected(error{errc::corrupt, "portal account with an unknown role"});
    }
    a.role = *role;
    a.subscriber_id = s.opt_text(3);
    a.operator_id = s.opt_text(4);
    a.password_hash = s.text(5);
    a.totp_secret = s.opt_blob(6);
    if (!s.is_null(7)) {
        a.totp_last_step = s.int64(7);
    }
    a.totp_pending_secret = s.opt_blob(8);
    a.failed_attempts = s.integer(9);
    if (!s.is_null(10)) {
        a.last_failure_at = s.time(10);
    }
    a.created_at = s.time(11);
    return a;
}

result<void> expect_one_change(connection& c, std::string_view what) {
    if (c.changes() == 0) {
        return std::unexpected(not_found(what));
    }
    return {};
}

class sqlite_portal_store_impl final : public portal_store {
public:
    explicit sqlite_portal_store_impl(std::vector<std::unique_ptr<connection>> conns)
        : pool_(std::move(conns)) {}

    result<void> add_account(const portal_account& a) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto s = c.prepare(
                "INSERT INTO portal_accounts (id, name, role, subscriber_id, operator_id, "
                "password_hash, totp_secret, totp_last_step, totp_pending_secret, "
                "failed_attempts, last_failure_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
            if (!s) {
                return std::unexpected(s.error());
            }
            return s
                ->bind(a.id, a.name, to_string(a.role), a.subscriber_id, a.operator_id,
                       a.password_hash, a.totp_secret, a.totp_last_step, a.totp_pending_secret,
                       a.failed_attempts, a.last_failure_at, a.created_at)
                .run();
        });
    }

    result<portal_account> find_account(std::string_view id) override {
        return find_one(std::string(account_columns) + "WHERE id = ?", id);
    }

    result<portal_account> find_account_by_name(std::string_view name) override {
        return find_one(std::string(account_columns) + "WHERE name = ?", name);
    }

    result<std::vector<portal_account>> list_accounts() override {
        return in_transaction(
            pool_, false, [&](connection& c) -> result<std::vector<portal_account>> {
                auto s = c.prepare(std::string(account_columns) + "ORDER BY created_at, id");
                if (!s) {
                    return std::unexpected(s.error());
                }
                std::vector<portal_account> out;
                for (;;) {
                    auto row = s->step();
                    if (!row) {
                        return std::unexpected(row.error());
                    }
                    if (!*row) {
                        return out;
                    }
                    auto a = read_account(*s);
                    if (!a) {
                        return std::unexpected(a.error());
                    }
                    out.push_back(std::move(*a));
                }
            });
    }

    result<int> record_failure(std::string_view id, time_point now) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<int> {
            auto s = c.prepare("UPDATE portal_accounts SET failed_attempts = failed_attempts + 1, "
                               "last_failure_at = ? WHERE id = ? RETURNING failed_attempts");
            if (!s) {
                return std::unexpected(s.error());
            }
            s->bind(now, id);
            auto row = s->step();
            if (!row) {
                return std::unexpected(row.error());
            }
            if (!*row) {
                return std::unexpected(not_found("portal account"));
            }
            int n = s->integer(0);
            // RETURNING rows must be stepped to the end for the UPDATE to finish.
            if (auto done = s->run(); !done) {
                return std::unexpected(done.error());
            }
            return n;
        });
    }

    result<void> reset_failures(std::string_view id) override {
        return update("UPDATE portal_accounts SET failed_attempts = 0 WHERE id = ?", id);
    }

    result<void> set_pending_totp(std::string_view id, std::optional<bytes> secret) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto s = c.prepare("UPDATE portal_accounts SET totp_pending_secret = ? WHERE id = ?");
            if (!s) {
                return std::unexpected(s.error());
            }
            if (auto r = s->bind(secret, id).run(); !r) {
                return r;
            }
            return expect_one_change(c, "portal account");
        });
    }

    result<void> enrol_totp(std::string_view id, const bytes& secret, std::int64_t step,
                            const std::vector<bytes>& recovery_code_hashes) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto s = c.prepare("UPDATE portal_accounts SET totp_secret = ?, totp_last_step = ?, "
                               "totp_pending_secret = NULL WHERE id = ?");
            if (!s) {
                return std::unexpected(s.error());
            }
            if (auto r = s->bind(secret, step, id).run(); !r) {
                return r;
            }
            if (auto r = expect_one_change(c, "portal account"); !r) {
                return r;
            }
            auto d = c.prepare("DELETE FROM portal_recovery_codes WHERE account_id = ?");
            if (!d) {
                return std::unexpected(d.error());
            }
            if (auto r = d->bind(id).run(); !r) {
                return r;
            }
            for (const auto& h : recovery_code_hashes) {
                auto i = c.prepare(
                    "INSERT INTO portal_recovery_codes (account_id, code_hash) VALUES (?, ?)");
                if (!i) {
                    return std::unexpected(i.error());
                }
                if (auto r = i->bind(id, h).run(); !r) {
                    return r;
                }
            }
            return {};
        });
    }

    result<void> advance_totp_step(std::string_view id, std::optional<std::int64_t> expected,
                                   std::int64_t step) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto s = c.prepare("UPDATE portal_accounts SET totp_last_step = ? WHERE id = ? AND "
                               "totp_last_step IS ?");
            if (!s) {
                return std::unexpected(s.error());
            }
            if (auto r = s->bind(step, id, expected).run(); !r) {
                return r;
            }
            if (c.changes() == 0) {
                return std::unexpected(state_mismatch("TOTP step moved"));
            }
            return {};
        });
    }

    result<bool> use_recovery_code(std::string_view id, const bytes& code_hash,
                                   time_point now) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<bool> {
            auto s = c.prepare("UPDATE portal_recovery_codes SET used_at = ? WHERE account_id = ? "
                               "AND code_hash = ? AND used_at IS NULL");
            if (!s) {
                return std::unexpected(s.error());
            }
            if (auto r = s->bind(now, id, code_hash).run(); !r) {
                return std::unexpected(r.error());
            }
            return c.changes() == 1;
        });
    }

    result<int> recovery_codes_left(std::string_view id) override {
        return in_transaction(pool_, false, [&](connection& c) -> result<int> {
            auto s = c.prepare("SELECT count(*) FROM portal_recovery_codes WHERE account_id = ? "
                               "AND used_at IS NULL");
            if (!s) {
                return std::unexpected(s.error());
            }
            s->bind(id);
            auto row = s->step();
            if (!row) {
                return std::unexpected(row.error());
            }
            int n = s->integer(0);
            return n;
        });
    }

    result<void> add_session(const portal_session& ps) override {
        if (ps.token_sha256.size() != 32) {
            return std::unexpected(invalid("session token hash must be 32 bytes"));
        }
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto s = c.prepare("INSERT INTO portal_sessions (token_hash, account_id, csrf_token, "
                               "created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)");
            if (!s) {
                return std::unexpected(s.error());
            }
            return s
                ->bind(ps.token_sha256, ps.account_id, ps.csrf_token, ps.created_at,
                       ps.last_seen_at, ps.expires_at)
                .run();
        });
    }

    result<portal_session> find_session(const bytes& token_sha256) override {
        return in_transaction(pool_, false, [&](connection& c) -> result<portal_session> {
            auto s =
                c.prepare("SELECT token_hash, account_id, csrf_token, created_at, "
                          "last_seen_at, expires_at FROM portal_sessions WHERE token_hash = ?");
            if (!s) {
                return std::unexpected(s.error());
            }
            s->bind(token_sha256);
            auto row = s->step();
            if (!row) {
                return std::unexpected(row.error());
            }
            if (!*row) {
                return std::unexpected(not_found("portal session"));
            }
            portal_session ps;
            ps.token_sha256 = s->blob(0);
            ps.account_id = s->text(1);
            ps.csrf_token = s->text(2);
            ps.created_at = s->time(3);
            ps.last_seen_at = s->time(4);
            ps.expires_at = s->time(5);
            return ps;
        });
    }

    result<void> touch_session(const bytes& token_sha256, time_point now) override {
        return update("UPDATE portal_sessions SET last_seen_at = ? WHERE token_hash = ?", now,
                      token_sha256);
    }

    result<void> remove_session(const bytes& token_sha256) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto s = c.prepare("DELETE FROM portal_sessions WHERE token_hash = ?");
            if (!s) {
                return std::unexpected(s.error());
            }
            return s->bind(token_sha256).run();
        });
    }

    result<void> remove_sessions_of(std::string_view account_id) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto s = c.prepare("DELETE FROM portal_sessions WHERE account_id = ?");
            if (!s) {
                return std::unexpected(s.error());
            }
            return s->bind(account_id).run();
        });
    }

    result<std::size_t> purge_sessions(time_point now) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<std::size_t> {
            auto s = c.prepare("DELETE FROM portal_sessions WHERE expires_at < ?");
            if (!s) {
                return std::unexpected(s.error());
            }
            if (auto r = s->bind(now).run(); !r) {
                return std::unexpected(r.error());
            }
            return static_cast<std::size_t>(c.changes());
        });
    }

private:
    result<portal_account> find_one(const std::string& sql, std::string_view key) {
        return in_transaction(pool_, false, [&](connection& c) -> result<portal_account> {
            auto s = c.prepare(sql);
            if (!s) {
                return std::unexpected(s.error());
            }
            s->bind(key);
            auto row = s->step();
            if (!row) {
                return std::unexpected(row.error());
            }
            if (!*row) {
                return std::unexpected(not_found("portal account"));
            }
            return read_account(*s);
        });
    }

    template <class... Args>
    result<void> update(const char* sql, const Args&... args) {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto s = c.prepare(sql);
            if (!s) {
                return std::unexpected(s.error());
            }
            if (auto r = s->bind(args...).run(); !r) {
                return r;
            }
            return expect_one_change(c, "portal row");
        });
    }

    pool pool_;
};

} // namespace

} // namespace esimguard::store::sqlite

namespace esimguard::store {

result<std::unique_ptr<portal_store>> create_sqlite_portal_store(const sqlite_config& config) {
    auto conns = sqlite::open_migrated_connections(config);
    if (!conns) {
        return std::unexpected(conns.error());
    }
    return std::make_unique<sqlite::sqlite_portal_store_impl>(std::move(*conns));
}

} // namespace esimguard::store
