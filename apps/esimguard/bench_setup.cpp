// `esimguard bench` setup: a test PKI and a pool of eUICCs, the orders the
// devices download, and the server under test.
//
// With no --url/--nodes the bench owns the server: it creates the SQLite
// database through the store (schema and migrations), then writes the
// profiles and released orders with direct batch inserts in one transaction,
// since a million orders through the admin API would take hours; then it
// starts esimguard-smdpp on that database as a child process. With --url or
// --nodes the server is someone else's: orders go through its admin API.

#include "bench.hpp"

#include "esimguard/asn1/iccid.hpp"
#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/http/client.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "esimguard/rsp/saip.hpp"
#include "esimguard/store/sqlite_store.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace esimguard::app::bench {

namespace {

using json = nlohmann::json;

constexpr std::string_view operator_id = "bench";
constexpr std::string_view profile_type = "bench";

step<std::string> read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return fail(fmt::format("cannot read {}", p.string()));
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::int64_t micros(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

step<std::string> random_digits(std::size_t n) {
    std::string out;
    while (out.size() < n) {
        auto b = crypto::random_bytes(32);
        if (!b) {
            return fail("no randomness");
        }
        for (auto v : *b) {
            // Rejecting 250..255 keeps every digit equally likely.
            if (v < 250 && out.size() < n) {
                out.push_back(static_cast<char>('0' + v % 10));
            }
        }
    }
    return out;
}

step<std::string> random_hex(std::size_t n) {
    auto b = crypto::random_bytes(n);
    if (!b) {
        return fail("no randomness");
    }
    return to_hex_upper(*b);
}

// A minimal SAIP package whose header names `iccid`, so that the metadata the
// SM-DP+ announces and the package the eUICC installs agree.
step<bytes> package_for(std::string_view iccid_digits, std::size_t n) {
    auto iccid = asn1::iccid_value::parse(iccid_digits);
    if (!iccid) {
        return fail(fmt::format("bad bench ICCID {}", iccid_digits));
    }
    rsp::profile_package_params p;
    p.iccid = *iccid;
    p.imsi = fmt::format("00101{:010}", n);
    p.profile_type = std::string(profile_type);
    auto der = rsp::make_profile_package(p);
    if (!der) {
        return fail(fmt::format("cannot build a profile package: {}", der.error().message));
    }
    return std::move(*der);
}

// One prepared statement, finalized on scope exit.
struct statement {
    sqlite3_stmt* s = nullptr;
    ~statement() { sqlite3_finalize(s); }
};

// The orders the devices download (with a confirmation code each) and
// `prefill` more that only fill the tables, written in one transaction.
step<std::vector<std::pair<std::string, std::string>>> insert_orders(const fs::path& db_path,
                                                                     std::size_t work,
                                                                     std::size_t prefill,
                                                                     std::size_t& pkg_size) {
    sqlite3* db = nullptr;
    if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
        sqlite3_close(db);
        return fail(fmt::format("cannot open {}", db_path.string()));
    }
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> guard(db, sqlite3_close);
    auto exec = [db](const char* sql) -> step<void> {
        char* msg = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
            std::string m = msg ? msg : "unknown";
            sqlite3_free(msg);
            return fail(fmt::format("prefill: {}", m));
        }
        return {};
    };
    // A bulk load that is redone from scratch if it fails needs no journal
    // fsync per page; the server opens the file with its own settings after.
    if (auto r = exec("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN IMMEDIATE");
        !r) {
        return std::unexpected(r.error());
    }
    statement prof, ord;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO profiles (iccid, operator_id, profile_type,"
                           " service_provider_name, profile_name, profile_class, package, state,"
                           " created_at, updated_at) VALUES (?, ?, ?, 'esimguard bench',"
                           " 'Bench profile', 2, ?, 'released', ?, ?)",
                           -1, &prof.s, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO orders (order_id, iccid, operator_id, profile_type,"
                           " matching_id, cc_sha256, cc_required, cc_failure_limit,"
                           " download_attempt_limit, expires_at, state, created_at, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, 3, 3, ?, 'released', ?, ?)",
                           -1, &ord.s, nullptr) != SQLITE_OK) {
        return fail(fmt::format("prefill: {}", sqlite3_errmsg(db)));
    }
    const auto now = std::chrono::system_clock::now();
    const std::int64_t now_us = micros(now);
    const std::int64_t expires_us = micros(now + std::chrono::hours(24 * 30));
    auto salt = random_hex(4);
    if (!salt) {
        return std::unexpected(salt.error());
    }
    // Prefilled orders share one package: they are never downloaded.
    auto filler_pkg = package_for("8949002000000000000", 0);
    if (!filler_pkg) {
        return std::unexpected(filler_pkg.error());
    }
    std::vector<std::pair<std::string, std::string>> out; // matching ID, confirmation code
    out.reserve(work);
    for (std::size_t i = 0; i < work + prefill; ++i) {
        const bool is_work = i < work;
        const std::size_t n = is_work ? i : i - work;
        const char kind = is_work ? 'w' : 'p';
        const std::string iccid = fmt::format("894900{}{:012}", is_work ? 1 : 2, n);
        // Zero-padded counters keep every key ascending, so that the bulk
        // load appends to each B-tree instead of splitting pages at random.
        const std::string order_id = fmt::format("bench-{}-{}{:010}", *salt, kind, n);
        const std::string matching_id = fmt::format("B{}-{}-{:010}", is_work ? 'W' : 'P', *salt, n);
        bytes pkg;
        if (is_work) {
            auto p = package_for(iccid, n);
            if (!p) {
                return std::unexpected(p.error());
            }
            pkg = std::move(*p);
            pkg_size = pkg.size();
        }
        const bytes& package = is_work ? pkg : *filler_pkg;
        sqlite3_reset(prof.s);
        sqlite3_bind_text(prof.s, 1, iccid.data(), static_cast<int>(iccid.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(prof.s, 2, operator_id.data(), static_cast<int>(operator_id.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(prof.s, 3, profile_type.data(), static_cast<int>(profile_type.size()),
                          SQLITE_STATIC);
        sqlite3_bind_blob(prof.s, 4, package.data(), static_cast<int>(package.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(prof.s, 5, now_us);
        sqlite3_bind_int64(prof.s, 6, now_us);
        if (sqlite3_step(prof.s) != SQLITE_DONE) {
            return fail(fmt::format("prefill profile: {}", sqlite3_errmsg(db)));
        }
        std::string cc;
        bytes cc_hash;
        if (is_work) {
            auto d = random_digits(8);
            if (!d) {
                return std::unexpected(d.error());
            }
            cc = std::move(*d);
            cc_hash = crypto::sha256(as_bytes(cc));
        }
        sqlite3_reset(ord.s);
        sqlite3_bind_text(ord.s, 1, order_id.data(), static_cast<int>(order_id.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(ord.s, 2, iccid.data(), static_cast<int>(iccid.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(ord.s, 3, operator_id.data(), static_cast<int>(operator_id.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(ord.s, 4, profile_type.data(), static_cast<int>(profile_type.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(ord.s, 5, matching_id.data(), static_cast<int>(matching_id.size()),
                          SQLITE_TRANSIENT);
        if (is_work) {
            sqlite3_bind_blob(ord.s, 6, cc_hash.data(), static_cast<int>(cc_hash.size()),
                              SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(ord.s, 6);
        }
        sqlite3_bind_int(ord.s, 7, is_work ? 1 : 0);
        sqlite3_bind_int64(ord.s, 8, expires_us);
        sqlite3_bind_int64(ord.s, 9, now_us);
        sqlite3_bind_int64(ord.s, 10, now_us);
        if (sqlite3_step(ord.s) != SQLITE_DONE) {
            return fail(fmt::format("prefill order: {}", sqlite3_errmsg(db)));
        }
        if (is_work) {
            out.emplace_back(matching_id, std::move(cc));
        }
    }
    if (auto r = exec("COMMIT"); !r) {
        return std::unexpected(r.error());
    }
    return out;
}

std::optional<fs::path> find_server_binary(const fs::path& self_exe) {
    const fs::path dir = self_exe.parent_path();
    for (const fs::path& p :
         {dir / "esimguard-smdpp", dir.parent_path() / "esimguard-smdpp" / "esimguard-smdpp"}) {
        if (::access(p.c_str(), X_OK) == 0) {
            return p;
        }
    }
    return std::nullopt;
}

step<pid_t> spawn_server(const bench_args& a, const fs::path& exe, environment& env) {
    const fs::path port_file = env.dir / "server.port";
    std::vector<std::string> args = {exe.string(), "--pki", env.pki_dir.string(), "--db",
                                     env.database.string(), "--port", "0", "--port-file",
                                     port_file.string(), "--log-level", "warn", "--log-file",
                                     (env.dir / "server.log").string(),
                                     // Sessions of the memory test stay open for its whole run.
                                     "--session-ttl", "3600", "--max-connections", "4096"};
    if (a.server_workers > 0) {
        args.push_back("--workers");
        args.push_back(std::to_string(a.server_workers));
    }
    std::vector<char*> argv;
    for (auto& s : args) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ);
        rc != 0) {
        return fail(fmt::format("cannot start {}: {}", exe.string(), std::strerror(rc)));
    }
    env.child = pid;
    for (int i = 0; i < 1500; ++i) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            env.child.reset();
            return fail(fmt::format("esimguard-smdpp exited at start; see {}",
                                    (env.dir / "server.log").string()));
        }
        std::ifstream in(port_file);
        unsigned port = 0;
        if (in >> port && port > 0) {
            env.nodes = {fmt::format("localhost:{}", port)};
            return pid;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return fail("esimguard-smdpp did not write its port within 15 s");
}

// Orders through the admin API of a server we do not own.
step<std::vector<work_order>> orders_via_admin(const bench_args& a, const environment& env,
                                               std::size_t n) {
    std::ifstream tf(a.admin_token_file);
    std::string token;
    std::getline(tf, token);
    if (token.empty()) {
        return fail(fmt::format("cannot read the admin token from {}", a.admin_token_file));
    }
    http::client_config cc;
    cc.trusted_ca_files = {env.pki_dir / "nist" / "ci.pem"};
    auto client = http::client::create(cc);
    if (!client) {
        return fail(fmt::format("admin client: {}", client.error().detail));
    }
    const std::string base = fmt::format("https://{}", env.nodes.front());
    const http::header_list headers{{"Authorization", "Bearer " + token},
                                    {"Content-Type", "application/json"}};
    auto post = [&](std::string_view path, const json& body) -> step<json> {
        auto r = client->post(base + std::string(path), body.dump(), headers);
        if (!r) {
            return fail(fmt::format("admin {}: {}", path, r.error().detail));
        }
        if (r->status != 201 && r->status != 200) {
            return fail(fmt::format("admin {} answered HTTP {}: {}", path, r->status, r->body));
        }
        return json::parse(r->body, nullptr, false);
    };
    auto salt = random_hex(4);
    if (!salt) {
        return std::unexpected(salt.error());
    }
    const std::string op = fmt::format("bench-{}", *salt);
    // The bench never calls ES2+, but an operator must have a credential.
    auto es2_token = random_hex(24);
    if (!es2_token) {
        return std::unexpected(es2_token.error());
    }
    if (auto r =
            post("/admin/operators",
                 json{{"id", op}, {"display_name", "esimguard bench"}, {"es2_token", *es2_token}});
        !r) {
        return std::unexpected(r.error());
    }
    auto base_iccid = random_digits(8);
    if (!base_iccid) {
        return std::unexpected(base_iccid.error());
    }
    std::vector<work_order> out;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string iccid = fmt::format("8949{}{:07}", *base_iccid, i);
        auto pkg = package_for(iccid, i);
        if (!pkg) {
            return std::unexpected(pkg.error());
        }
        if (auto r = post("/admin/profiles", json{{"operator", op},
                                                  {"package", to_base64(*pkg)},
                                                  {"profile_type", profile_type}});
            !r) {
            return std::unexpected(r.error());
        }
        auto o = post("/admin/orders", json{{"operator", op}, {"iccid", iccid}});
        if (!o) {
            return std::unexpected(o.error());
        }
        if (!o->is_object() || !o->contains("activation_code") ||
            !(*o)["confirmation_code"].is_string()) {
            return fail("the admin API's order answer lacks the activation or confirmation code");
        }
        out.push_back(work_order{(*o)["activation_code"].get<std::string>(),
                                 (*o)["confirmation_code"].get<std::string>()});
    }
    return out;
}

std::string host_of(std::string url) {
    if (auto p = url.find("://"); p != std::string::npos) {
        url = url.substr(p + 3);
    }
    if (auto p = url.find('/'); p != std::string::npos) {
        url = url.substr(0, p);
    }
    return url;
}

} // namespace

step<environment> set_up(const bench_args& a, const fs::path& self_exe) {
    environment env;
    // A failed set-up removes the directories it made (a kept --dir stays).
    struct remove_on_failure {
        std::vector<fs::path> dirs;
        bool keep = false;
        ~remove_on_failure() {
            for (const auto& d : dirs) {
                std::error_code e;
                if (!keep) {
                    fs::remove_all(d, e);
                }
            }
        }
    } cleanup;
    auto curve = pki::parse_curve(a.curve);
    if (!curve) {
        return fail("--curve must be nist or brainpool");
    }
    env.curve = *curve;
    const bool external = !a.url.empty() || !a.nodes.empty();
    if (external && (a.pki.empty() || a.admin_token_file.empty())) {
        return fail("--url/--nodes need --pki (the server's PKI, to issue eUICCs) and "
                    "--admin-token-file (to create orders)");
    }
    if (external && a.prefill > 0) {
        return fail("--prefill writes the database directly: only without --url/--nodes");
    }
    std::error_code ec;
    if (a.dir.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "esimguard-bench-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            return fail("cannot create a temporary directory");
        }
        env.dir = tmpl;
        cleanup.dirs.push_back(env.dir);
    } else {
        env.dir = a.dir;
        fs::create_directories(env.dir, ec);
    }
    env.database = env.dir / "esimguard.db";
    env.pki_dir = a.pki.empty() ? env.dir / "pki" : fs::path(a.pki);

    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    if (a.pki.empty()) {
        pki::test_pki_options po;
        po.dir = env.pki_dir;
        // TLS is always served on the NIST chain (see `esimguard demo`).
        po.curves =
            env.curve == crypto::curve::nist_p256 ? pki::curve_set::nist : pki::curve_set::both;
        po.host = "localhost";
        po.now = now;
        po.overwrite = true;
        if (auto r = pki::init_test_pki(po); !r) {
            return fail(fmt::format("PKI generation failed: {}", r.error().detail));
        }
    }

    std::size_t work = 0;
    if (a.sessions > 0) {
        work = 0;
    } else if (a.count) {
        work = *a.count;
    } else {
        work = a.orders > 0 ? a.orders
                            : static_cast<std::size_t>(std::max(1.0, *a.duration_s) * 1000.0);
    }

    // A pool of eUICCs, each doing --downloads-per-euicc downloads: the
    // server's risk engine refuses an EID that pulls many profiles (by default
    // the 5th in 24 h), as it should, so one card per device would soon be
    // refused. The first card comes from the PKI on disk (the usual path);
    // the others are issued in memory by the EUM key, which costs a key
    // generation and a signature each instead of files and a chain check.
    env.devices = std::max<std::size_t>(1, a.concurrency);
    env.downloads_per_card = std::max<std::size_t>(1, a.downloads_per_euicc);
    const std::size_t pool =
        std::max(env.devices, (work + env.downloads_per_card - 1) / env.downloads_per_card);
    auto eid_base = random_digits(8);
    if (!eid_base) {
        return std::unexpected(eid_base.error());
    }
    auto eid_of = [&](std::size_t i) {
        return pki::eid_with_check_digits(
            fmt::format("{}{}{:014}", pki::test_eid_prefix, *eid_base, i));
    };
    auto first_eid = eid_of(0);
    if (!first_eid) {
        return fail("cannot make an EID");
    }
    if (auto r = pki::issue_euicc(env.pki_dir, *first_eid, env.curve, now); !r) {
        return fail(fmt::format("eUICC certificate failed: {}", r.error().detail));
    }
    auto first_cfg = euicc::load_euicc_from_pki(env.pki_dir, env.curve, *first_eid);
    if (!first_cfg) {
        return fail(fmt::format("cannot load the eUICC: {}", first_cfg.error().detail));
    }
    env.first_eid = *first_eid;
    env.cards.push_back(device_card{*first_cfg});
    if (pool > 1) {
        const fs::path cdir = env.pki_dir / pki::curve_dir_name(env.curve);
        auto eum_pem = read_text(cdir / "eum.pem");
        auto eum_key_pem = read_text(cdir / "eum.key.pem");
        if (!eum_pem || !eum_key_pem) {
            return fail(fmt::format("the EUM certificate or key is missing in {}", cdir.string()));
        }
        auto eum = crypto::certificate::from_pem(*eum_pem);
        auto eum_key = crypto::private_key::from_pem(*eum_key_pem);
        if (!eum || !eum_key) {
            return fail("cannot load the EUM certificate or key");
        }
        auto eum_signer = crypto::create_software_signer(std::move(*eum_key));
        for (std::size_t i = 1; i < pool; ++i) {
            auto eid = eid_of(i);
            auto key = crypto::private_key::generate(env.curve);
            auto serial = crypto::random_bytes(16);
            if (!eid || !key || !serial) {
                return fail("cannot make an eUICC");
            }
            (*serial)[0] &= 0x7F; // a positive serial number
            crypto::cert_request r{
                .subject = {{"O", "esimguard test EUM"},
                            {"serialNumber", *eid},
                            {"CN", "esimguard test eUICC"}},
                .subject_key = key->public_part(),
                .serial = std::move(*serial),
                .not_before = now - std::chrono::hours(1),
                .not_after = now + std::chrono::days(365),
                .key_usage = crypto::key_usage::digital_signature,
                .policy_oids = {std::string(crypto::policy_oid(crypto::cert_role::euicc))}};
            auto cert = crypto::issue_certificate(r, *eum, *eum_signer);
            if (!cert) {
                return fail(fmt::format("eUICC certificate failed: {}", cert.error().detail));
            }
            euicc::euicc_config cfg = *first_cfg;
            cfg.eid = *eid;
            cfg.key = crypto::create_software_signer(std::move(*key));
            cfg.private_key_pem.clear();
            cfg.euicc_certificate_der = cert->der();
            env.cards.push_back(device_card{std::move(cfg)});
        }
    }
    if (external) {
        for (const auto& u : a.nodes) {
            env.nodes.push_back(host_of(u));
        }
        if (env.nodes.empty()) {
            env.nodes.push_back(host_of(a.url));
        }
        for (int p : a.server_pids) {
            env.server_pids.push_back(p);
        }
        auto orders = orders_via_admin(a, env, work);
        if (!orders) {
            return std::unexpected(orders.error());
        }
        env.orders = std::move(*orders);
        cleanup.keep = true;
        return env;
    }

    {
        store::sqlite_config sc;
        sc.path = env.database.string();
        sc.connections = 1;
        auto db = store::create_sqlite_store(sc);
        if (!db) {
            return fail(fmt::format("cannot create the database: {}", db.error().message));
        }
        auto token = random_hex(16);
        if (!token) {
            return std::unexpected(token.error());
        }
        store::operator_record op;
        op.id = std::string(operator_id);
        op.display_name = "esimguard bench";
        op.token_sha256_hex = to_hex(crypto::sha256(as_bytes(*token)));
        op.created_at = std::chrono::system_clock::now();
        if (auto r = (*db)->add_operator(op); !r) {
            return fail(fmt::format("cannot add the bench operator: {}", r.error().message));
        }
    }
    const auto t0 = steady::now();
    auto codes = insert_orders(env.database, work, a.prefill, env.package_bytes);
    if (!codes) {
        return std::unexpected(codes.error());
    }
    if (!a.quiet) {
        fmt::print(stderr, "bench: {} orders to download and {} prefilled written in {:.1f} s\n",
                   work, a.prefill, std::chrono::duration<double>(steady::now() - t0).count());
    }

    auto exe = find_server_binary(self_exe);
    if (!exe) {
        return fail("esimguard-smdpp not found beside esimguard; use --url");
    }
    auto pid = spawn_server(a, *exe, env);
    if (!pid) {
        return std::unexpected(pid.error());
    }
    env.server_pids.push_back(*pid);
    for (auto& [mid, cc] : *codes) {
        rsp::activation_code ac;
        ac.smdp_address = env.nodes.front();
        ac.matching_id = mid;
        ac.confirmation_code_required = true;
        env.orders.push_back(work_order{rsp::format_activation_code(ac), std::move(cc)});
    }
    cleanup.keep = true;
    return env;
}

void tear_down(environment& env) {
    if (env.child) {
        ::kill(*env.child, SIGTERM);
        int status = 0;
        for (int i = 0; i < 500; ++i) {
            if (::waitpid(*env.child, &status, WNOHANG) == *env.child) {
                env.child.reset();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (env.child) {
            ::kill(*env.child, SIGKILL);
            ::waitpid(*env.child, &status, 0);
            env.child.reset();
        }
    }
}

} // namespace esimguard::app::bench
