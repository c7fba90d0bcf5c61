// `esimguard block|stolen|alerts|subscriber|audit ...`: the defences from the
// operator's terminal (issue 4).
//
// Two ways to reach them, as an operator expects:
//   --url URL --token-file FILE   through the running server's admin API: the
//                                 change applies at once (block, stolen, alerts);
//   --db PATH [--head-file PATH]  on the database file directly: works with the
//                                 server stopped (incident response, scripts);
//                                 a running server sees a blocklist or stolen
//                                 change when it next loads its lists.
// `audit verify` and `audit show` read the database and head file directly:
// the investigator should not have to trust the server being investigated.
// Every change is an audit event (admin_action, actor "admin:<login>").

#include "commands.hpp"

#include "esimguard/defense/audit_chain.hpp"
#include "esimguard/defense/blocklist.hpp"
#include "esimguard/defense/persist.hpp"
#include "esimguard/http/client.hpp"
#include "esimguard/store/defense_store.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

namespace esimguard::app {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

/// Where a command works: the database, or the admin API.
struct target_args {
    std::string db;
    std::string head_file;
    std::string url;
    std::string token_file;
    std::string ca;
    bool insecure = false;
};

void add_target_options(CLI::App* c, target_args& t, bool api = true) {
    c->add_option("--db", t.db, "the SQLite database of esimguard-smdpp");
    c->add_option("--head-file", t.head_file,
                  "the audit head file (default: the database path + .audit-head)");
    if (api) {
        c->add_option("--url", t.url, "the server's base URL, e.g. https://smdp.example:8443");
        c->add_option("--token-file", t.token_file, "a file holding the admin bearer token");
        c->add_option("--ca", t.ca, "PEM file of the CA that signed the server's TLS certificate");
        c->add_flag("--insecure", t.insecure, "do not verify the server's TLS certificate (tests)");
    }
}

std::string login_name() {
    const char* u = std::getenv("USER");
    std::string name = u ? u : "cli";
    std::string out;
    for (char ch : name) {
        if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-') {
            out.push_back(ch);
        }
    }
    if (out.empty() || out.size() > 64) {
        out = "cli";
    }
    return out;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int fail(std::string_view who, std::string_view message, int code = 2) {
    fmt::print(stderr, "esimguard {}: {}\n", who, message);
    return code;
}

// ---- direct database access -------------------------------------------------

struct direct {
    std::unique_ptr<store::defense_store> defenses;
    std::unique_ptr<defense::audit_chain> audit;
};

fs::path head_file_of(const target_args& t) {
    return t.head_file.empty() ? fs::path(t.db + ".audit-head") : fs::path(t.head_file);
}

std::optional<direct> open_direct(const target_args& t, std::string_view who,
                                  bool need_defenses = true) {
    if (t.db.empty()) {
        fail(who, "give --db PATH (or --url and --token-file)");
        return std::nullopt;
    }
    if (!fs::exists(t.db)) {
        fail(who, fmt::format("no database at {}", t.db));
        return std::nullopt;
    }
    direct d;
    store::sqlite_config cfg;
    cfg.path = t.db;
    cfg.connections = 1;
    if (need_defenses) {
        auto s = store::create_sqlite_defense_store(cfg);
        if (!s) {
            fail(who, s.error().message);
            return std::nullopt;
        }
        d.defenses = std::move(*s);
    }
    auto log = store::create_sqlite_audit_log(cfg);
    if (!log) {
        fail(who, log.error().message);
        return std::nullopt;
    }
    defense::audit_chain_config ac;
    ac.head_file = head_file_of(t);
    d.audit = defense::audit_chain::create(std::move(*log), ac);
    return d;
}

void audit_change(direct& d, std::string_view who, std::string_view action, std::string reason,
                  std::optional<std::string> eid, std::optional<std::string> iccid,
                  json detail = json::object()) {
    defense::audit_entry e;
    e.kind = store::audit_kind::admin_action;
    e.actor = "admin:" + login_name();
    e.eid = std::move(eid);
    e.iccid = std::move(iccid);
    e.outcome = "ok";
    e.reason = reason.empty() ? std::string(action) : fmt::format("{}: {}", action, reason);
    detail["action"] = action;
    detail["via"] = "cli";
    e.detail_json = detail.dump();
    if (auto r = d.audit->append(e); !r) {
        // The change is made; say loudly that its record is not.
        fmt::print(stderr, "esimguard {}: WARNING: the change was made but not audited: {}\n", who,
                   r.error().message);
    }
}

// ---- admin API access ------------------------------------------------------------

struct api {
    http::client client;
    std::string url;
    std::string token;
};

std::optional<api> open_api(const target_args& t, std::string_view who) {
    std::ifstream in(t.token_file);
    std::string token;
    if (!in || !std::getline(in, token)) {
        fail(who, fmt::format("cannot read the admin token from {}", t.token_file));
        return std::nullopt;
    }
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
        token.pop_back();
    }
    http::client_config cc;
    if (!t.ca.empty()) {
        cc.trusted_ca_files.push_back(t.ca);
    }
    if (t.insecure) {
        fmt::print(stderr, "esimguard {}: WARNING: not verifying the server certificate\n", who);
        cc.insecure = true;
    }
    auto c = http::client::create(cc);
    if (!c) {
        fail(who, c.error().detail);
        return std::nullopt;
    }
    std::string url = t.url;
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    return api{std::move(*c), std::move(url), std::move(token)};
}

std::string url_escape(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

/// One admin API call; prints the error and returns nullopt unless 2xx.
std::optional<json> call(api& a, std::string_view who, std::string_view method,
                         const std::string& path, const json* body = nullptr) {
    http::header_list headers{{"Authorization", "Bearer " + a.token},
                              {"X-Esimguard-Actor", login_name()}};
    std::string payload;
    if (body != nullptr) {
        headers.push_back({"Content-Type", "application/json"});
        payload = body->dump();
    }
    auto r = a.client.request(method, a.url + path, std::move(payload), headers);
    if (!r) {
        fail(who, fmt::format("cannot reach {}: {}", a.url, r.error().detail));
        return std::nullopt;
    }
    auto j = json::parse(r->body, nullptr, false);
    if (r->status < 200 || r->status > 299) {
        std::string msg = fmt::format("HTTP {}", r->status);
        if (!j.is_discarded() && j.contains("error") && j["error"].contains("message")) {
            msg += ": " + j["error"]["message"].get<std::string>();
        }
        fail(who, msg);
        return std::nullopt;
    }
    return j.is_discarded() ? json::object() : j;
}

bool use_api(const target_args& t, std::string_view who, bool& bad) {
    bad = false;
    if (!t.url.empty() && !t.db.empty()) {
        fail(who, "give either --db or --url, not both");
        bad = true;
    }
    if (!t.url.empty() && t.token_file.empty()) {
        fail(who, "--url needs --token-file");
        bad = true;
    }
    return !t.url.empty();
}

// ---- block -----------------------------------------------------------------------

struct block_args {
    target_args t;
    std::string kind;
    std::string value;
    std::string reason;
    long long ttl = 0;
};

void print_blocks(const json& entries) {
    if (entries.empty()) {
        fmt::print("no blocklist entries\n");
        return;
    }
    fmt::print("{:<12} {:<34} {:<21} {:<21} {:<20} {}\n", "KIND", "VALUE", "CREATED", "EXPIRES",
               "BY", "REASON");
    for (const auto& e : entries) {
        fmt::print("{:<12} {:<34} {:<21} {:<21} {:<20} {}\n", e.value("kind", ""),
                   e.value("value", ""), e.value("created_at", ""),
                   e["expires_at"].is_null() ? std::string("never")
                                             : e["expires_at"].get<std::string>(),
                   e.value("created_by", ""), e.value("reason", ""));
    }
}

json block_json(const defense::block_entry& b) {
    json j{{"kind", defense::to_string(b.kind)},
           {"value", b.value},
           {"reason", b.reason},
           {"created_at", iso_time(b.created)},
           {"created_by", b.created_by}};
    j["expires_at"] = b.expires ? json(iso_time(*b.expires)) : json(nullptr);
    return j;
}

int run_block(const std::string& sub, const block_args& a) {
    const std::string who = "block " + sub;
    bool bad = false;
    const bool via_api = use_api(a.t, who, bad);
    if (bad) {
        return 2;
    }
    std::optional<defense::block_kind> kind;
    if (sub != "list") {
        kind = defense::parse_block_kind(a.kind);
        if (!kind) {
            return fail(who, "KIND must be ip, ip_prefix, eid, eum or matching_id");
        }
    }
    if (via_api) {
        auto c = open_api(a.t, who);
        if (!c) {
            return 2;
        }
        if (sub == "list") {
            auto r = call(*c, who, "GET", "/admin/blocklist");
            if (!r) {
                return 1;
            }
            print_blocks((*r)["entries"]);
            return 0;
        }
        if (sub == "add") {
            json body{{"kind", a.kind}, {"value", a.value}, {"reason", a.reason}};
            if (a.ttl > 0) {
                body["ttl_s"] = a.ttl;
            }
            auto r = call(*c, who, "POST", "/admin/blocklist", &body);
            if (!r) {
                return 1;
            }
            fmt::print("blocked {} {}\n", (*r).value("kind", ""), (*r).value("value", ""));
            return 0;
        }
        auto r =
            call(*c, who, "DELETE",
                 "/admin/blocklist?kind=" + url_escape(a.kind) + "&value=" + url_escape(a.value));
        if (!r) {
            return 1;
        }
        fmt::print("unblocked {} {}\n", a.kind, a.value);
        return 0;
    }

    auto d = open_direct(a.t, who);
    if (!d) {
        return 2;
    }
    auto st = defense::create_persistent_blocklist_store(*d->defenses);
    defense::blocklist bl([] { return std::chrono::system_clock::now(); }, st.get());
    if (auto n = bl.load(); !n) {
        return fail(who, n.error().message);
    }
    if (sub == "list") {
        json entries = json::array();
        for (const auto& b : bl.list()) {
            entries.push_back(block_json(b));
        }
        print_blocks(entries);
        return 0;
    }
    if (sub == "add") {
        defense::block_entry b;
        b.kind = *kind;
        b.value = a.value;
        b.reason = a.reason;
        b.created = std::chrono::system_clock::now();
        if (a.ttl > 0) {
            b.expires = b.created + std::chrono::seconds(a.ttl);
        }
        b.created_by = "admin:" + login_name();
        auto r = bl.add(b);
        if (!r) {
            return fail(who, r.error().message);
        }
        json detail{{"kind", defense::to_string(r->kind)}, {"ttl_s", a.ttl}};
        if (r->kind != defense::block_kind::matching_id) {
            detail["value"] = r->value;
        }
        audit_change(*d, who, "block_add", a.reason,
                     r->kind == defense::block_kind::eid ? std::optional(r->value) : std::nullopt,
                     std::nullopt, detail);
        fmt::print("blocked {} {}\n", defense::to_string(r->kind), r->value);
        return 0;
    }
    auto r = bl.remove(*kind, a.value);
    if (!r) {
        return fail(who, r.error().message);
    }
    if (!*r) {
        return fail(who, "no such blocklist entry", 1);
    }
    json detail{{"kind", defense::to_string(*kind)}};
    if (*kind != defense::block_kind::matching_id) {
        detail["value"] = a.value;
    }
    audit_change(*d, who, "block_remove", "", std::nullopt, std::nullopt, detail);
    fmt::print("unblocked {} {}\n", a.kind, a.value);
    return 0;
}

// ---- stolen ----------------------------------------------------------------------

struct stolen_args {
    target_args t;
    std::string eid;
    std::string reason;
};

void print_stolen(const json& devices) {
    if (devices.empty()) {
        fmt::print("no devices reported stolen\n");
        return;
    }
    fmt::print("{:<34} {:<21} {:<24} {}\n", "EID", "REPORTED", "BY", "REASON");
    for (const auto& d : devices) {
        fmt::print("{:<34} {:<21} {:<24} {}\n", d.value("eid", ""), d.value("reported_at", ""),
                   d.value("reported_by", ""), d.value("reason", ""));
    }
}

int run_stolen(const std::string& sub, const stolen_args& a) {
    const std::string who = "stolen " + sub;
    bool bad = false;
    const bool via_api = use_api(a.t, who, bad);
    if (bad) {
        return 2;
    }
    if (via_api) {
        auto c = open_api(a.t, who);
        if (!c) {
            return 2;
        }
        if (sub == "list") {
            auto r = call(*c, who, "GET", "/admin/stolen");
            if (!r) {
                return 1;
            }
            print_stolen((*r)["devices"]);
            return 0;
        }
        if (sub == "add") {
            json body{{"eid", a.eid}, {"reason", a.reason}};
            if (!call(*c, who, "POST", "/admin/stolen", &body)) {
                return 1;
            }
            fmt::print("reported stolen: {}\n", a.eid);
            return 0;
        }
        if (!call(*c, who, "DELETE", "/admin/stolen?eid=" + url_escape(a.eid))) {
            return 1;
        }
        fmt::print("no longer reported stolen: {}\n", a.eid);
        return 0;
    }
    auto d = open_direct(a.t, who);
    if (!d) {
        return 2;
    }
    auto st = defense::create_persistent_stolen_devices_store(*d->defenses);
    defense::stolen_devices sd(st.get());
    if (auto n = sd.load(); !n) {
        return fail(who, n.error().message);
    }
    if (sub == "list") {
        json out = json::array();
        for (const auto& s : sd.list()) {
            out.push_back(json{{"eid", s.eid},
                               {"reason", s.reason},
                               {"reported_at", iso_time(s.reported)},
                               {"reported_by", s.reported_by}});
        }
        print_stolen(out);
        return 0;
    }
    if (sub == "add") {
        defense::stolen_device s{a.eid, a.reason, std::chrono::system_clock::now(),
                                 "admin:" + login_name()};
        if (auto r = sd.add(s); !r) {
            return fail(who, r.error().message);
        }
        audit_change(*d, who, "stolen_add", a.reason, a.eid, std::nullopt);
        fmt::print("reported stolen: {}\n", a.eid);
        return 0;
    }
    auto r = sd.remove(a.eid);
    if (!r) {
        return fail(who, r.error().message);
    }
    if (!*r) {
        return fail(who, "this EID is not reported stolen", 1);
    }
    audit_change(*d, who, "stolen_remove", "", a.eid, std::nullopt);
    fmt::print("no longer reported stolen: {}\n", a.eid);
    return 0;
}

// ---- alerts ----------------------------------------------------------------------

struct alerts_args {
    target_args t;
    std::string id;
    std::string subscriber;
    std::string operator_id;
    std::string iccid;
    std::string severity;
    bool unacked = false;
    std::size_t limit = 50;
};

void print_alerts(const json& alerts) {
    if (alerts.empty()) {
        fmt::print("no alerts\n");
        return;
    }
    fmt::print("{:<32} {:<21} {:<9} {:<26} {:<5} {}\n", "ID", "TIME", "SEVERITY", "RULE", "ACK",
               "SUMMARY");
    for (const auto& a : alerts) {
        std::string summary = a.value("summary", "");
        std::replace(summary.begin(), summary.end(), '\n', ' ');
        fmt::print("{:<32} {:<21} {:<9} {:<26} {:<5} {}\n", a.value("id", ""), a.value("at", ""),
                   a.value("severity", ""), a.value("rule", ""),
                   a["acknowledged_at"].is_null() ? "no" : "yes", summary);
    }
}

json alert_json(const store::alert_row& a) {
    json j{{"id", a.id},
           {"at", iso_time(a.at)},
           {"severity", a.severity},
           {"rule", a.rule},
           {"summary", a.summary}};
    j["acknowledged_at"] = a.acknowledged_at ? json(iso_time(*a.acknowledged_at)) : json(nullptr);
    return j;
}

int run_alerts(const std::string& sub, const alerts_args& a) {
    const std::string who = "alerts " + sub;
    bool bad = false;
    const bool via_api = use_api(a.t, who, bad);
    if (bad) {
        return 2;
    }
    if (via_api) {
        auto c = open_api(a.t, who);
        if (!c) {
            return 2;
        }
        if (sub == "list") {
            std::string q = fmt::format("/admin/alerts?limit={}", a.limit);
            auto add = [&](const char* k, const std::string& v) {
                if (!v.empty()) {
                    q += fmt::format("&{}={}", k, url_escape(v));
                }
            };
            add("subscriber", a.subscriber);
            add("operator", a.operator_id);
            add("iccid", a.iccid);
            add("severity", a.severity);
            if (a.unacked) {
                q += "&unacknowledged=true";
            }
            auto r = call(*c, who, "GET", q);
            if (!r) {
                return 1;
            }
            print_alerts((*r)["alerts"]);
            return 0;
        }
        if (!call(*c, who, "POST", "/admin/alerts/" + url_escape(a.id) + "/ack")) {
            return 1;
        }
        fmt::print("acknowledged {}\n", a.id);
        return 0;
    }
    auto d = open_direct(a.t, who);
    if (!d) {
        return 2;
    }
    if (sub == "list") {
        store::alert_query q;
        auto set = [](std::optional<std::string>& o, const std::string& v) {
            if (!v.empty()) {
                o = v;
            }
        };
        set(q.subscriber_id, a.subscriber);
        set(q.operator_id, a.operator_id);
        set(q.iccid, a.iccid);
        set(q.severity, a.severity);
        q.unacknowledged_only = a.unacked;
        q.limit = a.limit;
        auto rows = d->defenses->list_alerts(q);
        if (!rows) {
            return fail(who, rows.error().message);
        }
        json out = json::array();
        for (const auto& r : *rows) {
            out.push_back(alert_json(r));
        }
        print_alerts(out);
        return 0;
    }
    auto r = d->defenses->acknowledge_alert(a.id, "admin:" + login_name(),
                                            std::chrono::system_clock::now());
    if (!r) {
        return fail(who, r.error().message, r.error().code == store::errc::not_found ? 1 : 2);
    }
    audit_change(*d, who, "alert_ack", "", r->eid, r->iccid, json{{"alert", r->id}});
    fmt::print("acknowledged {}\n", a.id);
    return 0;
}

// ---- subscriber ------------------------------------------------------------------

struct subscriber_args {
    target_args t;
    std::string id;
    std::string name;
    std::string email;
    std::string operator_id;
    std::string iccid;
    bool step_up = false;
};

int run_subscriber(const std::string& sub, const subscriber_args& a) {
    const std::string who = "subscriber " + sub;
    bool bad = false;
    const bool via_api = use_api(a.t, who, bad);
    if (bad) {
        return 2;
    }
    if (via_api) {
        auto c = open_api(a.t, who);
        if (!c) {
            return 2;
        }
        if (sub == "add") {
            json body{{"id", a.id}, {"display_name", a.name}, {"email", a.email}};
            if (!a.operator_id.empty()) {
                body["operator"] = a.operator_id;
            }
            if (!call(*c, who, "POST", "/admin/subscribers", &body)) {
                return 1;
            }
            fmt::print("subscriber {} added\n", a.id);
            return 0;
        }
        json body{{"iccid", a.iccid}, {"subscriber", a.id}, {"step_up_on_new_eid", a.step_up}};
        if (!call(*c, who, "POST", "/admin/lines", &body)) {
            return 1;
        }
        fmt::print("line {} linked to subscriber {}\n", a.iccid, a.id);
        return 0;
    }
    auto d = open_direct(a.t, who);
    if (!d) {
        return 2;
    }
    if (sub == "add") {
        store::subscriber_record s;
        s.id = a.id;
        s.display_name = a.name.empty() ? a.id : a.name;
        s.email = a.email;
        if (!a.operator_id.empty()) {
            s.operator_id = a.operator_id;
        }
        s.created_at = std::chrono::system_clock::now();
        if (auto r = d->defenses->add_subscriber(s); !r) {
            return fail(who,
                        r.error().code == store::errc::conflict
                            ? "a subscriber with this id exists already"
                            : r.error().message,
                        1);
        }
        audit_change(*d, who, "subscriber_add", "", std::nullopt, std::nullopt,
                     json{{"subscriber", a.id}});
        fmt::print("subscriber {} added\n", a.id);
        return 0;
    }
    if (a.iccid.size() < 18 || a.iccid.size() > 20 ||
        !std::all_of(a.iccid.begin(), a.iccid.end(),
                     [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return fail(who, "ICCID must be 18 to 20 digits");
    }
    auto l = d->defenses->link_line(a.iccid, a.id, a.step_up, std::chrono::system_clock::now());
    if (!l) {
        return fail(
            who,
            l.error().code == store::errc::not_found ? "no such subscriber" : l.error().message, 1);
    }
    audit_change(*d, who, "line_link", "", std::nullopt, a.iccid,
                 json{{"subscriber", a.id}, {"step_up_on_new_eid", a.step_up}});
    fmt::print("line {} linked to subscriber {}{}\n", a.iccid, a.id,
               a.step_up ? " (a new device needs the subscriber's approval)" : "");
    return 0;
}

// ---- audit -----------------------------------------------------------------------

struct audit_args {
    target_args t;
    std::string iccid;
    std::string eid;
    std::string ip;
    std::size_t limit = 1000;
    bool json_out = false;
};

int run_audit_verify(const audit_args& a) {
    auto d = open_direct(a.t, "audit verify", false);
    if (!d) {
        return 2;
    }
    auto v = d->audit->verify();
    if (!v) {
        return fail("audit verify", v.error().message);
    }
    if (v->ok) {
        fmt::print("audit chain OK: {}\n", v->message);
        return 0;
    }
    fmt::print(stderr, "audit chain BROKEN at event {} ({}): {}\n", v->seq,
               defense::to_string(v->kind), v->message);
    fmt::print(stderr, "{} events before it verified\n", v->events_checked);
    return 1;
}

// "What happened" for a person: the call or action the event records.
std::string what_happened(const store::audit_event& e) {
    auto d = json::parse(e.detail, nullptr, false);
    std::string what = e.kind;
    if (!d.is_discarded() && d.is_object()) {
        for (const char* k : {"function", "action", "rule", "procedure"}) {
            if (d.contains(k) && d[k].is_string()) {
                return fmt::format("{} {}", e.kind, d[k].get<std::string>());
            }
        }
    }
    return what;
}

int run_audit_show(const audit_args& a) {
    int keys = (a.iccid.empty() ? 0 : 1) + (a.eid.empty() ? 0 : 1) + (a.ip.empty() ? 0 : 1);
    if (keys == 0) {
        return fail("audit show", "give --iccid, --eid or --ip");
    }
    auto d = open_direct(a.t, "audit show", false);
    if (!d) {
        return 2;
    }
    store::audit_query q;
    if (!a.iccid.empty()) {
        q.iccid = a.iccid;
    }
    if (!a.eid.empty()) {
        q.eid = a.eid;
    }
    if (!a.ip.empty()) {
        q.source_address = a.ip;
    }
    q.limit = a.limit;
    auto events = d->audit->activation_records(q);
    if (!events) {
        return fail("audit show", events.error().message);
    }
    if (a.json_out) {
        json out = json::array();
        for (const auto& e : *events) {
            json j{{"seq", e.seq},     {"time", iso_time(e.at)}, {"what", what_happened(e)},
                   {"actor", e.actor}, {"outcome", e.outcome},   {"reason", e.reason}};
            j["eid"] = e.eid ? json(*e.eid) : json(nullptr);
            j["iccid"] = e.iccid ? json(*e.iccid) : json(nullptr);
            j["address"] = e.source_address ? json(*e.source_address) : json(nullptr);
            out.push_back(j);
        }
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    if (events->empty()) {
        fmt::print("no activation records\n");
        return 0;
    }
    fmt::print("{:<21} {:<36} {:<33} {:<16} {:<9} {}\n", "TIME", "WHAT HAPPENED", "DEVICE (EID)",
               "ADDRESS", "OUTCOME", "REASON");
    for (const auto& e : *events) {
        fmt::print("{:<21} {:<36} {:<33} {:<16} {:<9} {}\n", iso_time(e.at), what_happened(e),
                   e.eid.value_or("-"), e.source_address.value_or("-"), e.outcome, e.reason);
    }
    fmt::print("{} records; run `esimguard audit verify` to check they were not altered\n",
               events->size());
    return 0;
}

} // namespace

void register_defense_commands(CLI::App& app) {
    // block
    auto* block = app.add_subcommand("block", "the blocklist: addresses, networks, EIDs, EUMs");
    block->require_subcommand(1);
    for (std::string sub : {"add", "remove", "list"}) {
        auto a = std::make_shared<block_args>();
        auto* c = block->add_subcommand(sub, sub == "add"      ? "block something"
                                             : sub == "remove" ? "lift a block"
                                                               : "list the blocks in force");
        add_target_options(c, a->t);
        if (sub != "list") {
            c->add_option("kind", a->kind, "ip, ip_prefix, eid, eum or matching_id")->required();
            c->add_option("value", a->value, "the address, CIDR network, EID or prefix")
                ->required();
        }
        if (sub == "add") {
            c->add_option("--reason", a->reason, "why (shown to operators and in the audit)");
            c->add_option("--ttl", a->ttl, "seconds until the block lifts (default: never)")
                ->check(CLI::Range(1LL, 10LL * 365 * 24 * 3600));
        }
        c->callback([sub, a] { set_exit_code(run_block(sub, *a)); });
    }

    // stolen
    auto* stolen = app.add_subcommand("stolen", "devices reported stolen (downloads refused)");
    stolen->require_subcommand(1);
    for (std::string sub : {"add", "remove", "list"}) {
        auto a = std::make_shared<stolen_args>();
        auto* c = stolen->add_subcommand(sub, sub == "add"      ? "report an EID stolen"
                                              : sub == "remove" ? "take an EID off the list"
                                                                : "list stolen devices");
        add_target_options(c, a->t);
        if (sub != "list") {
            c->add_option("eid", a->eid, "the device's EID (32 digits)")->required();
        }
        if (sub == "add") {
            c->add_option("--reason", a->reason, "why");
        }
        c->callback([sub, a] { set_exit_code(run_stolen(sub, *a)); });
    }

    // alerts
    auto* alerts = app.add_subcommand("alerts", "the alerts inbox");
    alerts->require_subcommand(1);
    {
        auto a = std::make_shared<alerts_args>();
        auto* c = alerts->add_subcommand("list", "alerts, newest first");
        add_target_options(c, a->t);
        c->add_option("--subscriber", a->subscriber, "only this subscriber's");
        c->add_option("--operator", a->operator_id, "only this operator's");
        c->add_option("--iccid", a->iccid, "only this line's");
        c->add_option("--severity", a->severity, "info, warning or critical")
            ->check(CLI::IsMember({"info", "warning", "critical"}));
        c->add_flag("--unacked", a->unacked, "only alerts nobody acknowledged");
        c->add_option("--limit", a->limit, "at most this many")->check(CLI::Range(1, 10'000));
        c->callback([a] { set_exit_code(run_alerts("list", *a)); });
    }
    {
        auto a = std::make_shared<alerts_args>();
        auto* c = alerts->add_subcommand("ack", "acknowledge an alert");
        add_target_options(c, a->t);
        c->add_option("id", a->id, "the alert's id")->required();
        c->callback([a] { set_exit_code(run_alerts("ack", *a)); });
    }

    // subscriber
    auto* subscriber = app.add_subcommand("subscriber", "subscribers and their lines");
    subscriber->require_subcommand(1);
    {
        auto a = std::make_shared<subscriber_args>();
        auto* c = subscriber->add_subcommand("add", "register a subscriber");
        add_target_options(c, a->t);
        c->add_option("id", a->id, "the subscriber's id")->required();
        c->add_option("--name", a->name, "display name");
        c->add_option("--email", a->email, "where alerts and one-time codes are mailed");
        c->add_option("--operator", a->operator_id, "the operator that registered them");
        c->callback([a] { set_exit_code(run_subscriber("add", *a)); });
    }
    {
        auto a = std::make_shared<subscriber_args>();
        auto* c = subscriber->add_subcommand("link", "link a line (ICCID) to a subscriber");
        add_target_options(c, a->t);
        c->add_option("id", a->id, "the subscriber's id")->required();
        c->add_option("iccid", a->iccid, "the profile's ICCID")->required();
        c->add_flag("--step-up", a->step_up,
                    "a download to a device never seen on this line needs the subscriber's "
                    "approval");
        c->callback([a] { set_exit_code(run_subscriber("link", *a)); });
    }

    // audit
    auto* audit = app.add_subcommand("audit", "the tamper-evident audit trail");
    audit->require_subcommand(1);
    {
        auto a = std::make_shared<audit_args>();
        auto* c = audit->add_subcommand(
            "verify", "check the hash chain and head file; exit 1 naming the first bad event");
        add_target_options(c, a->t, false);
        c->callback([a] { set_exit_code(run_audit_verify(*a)); });
    }
    {
        auto a = std::make_shared<audit_args>();
        auto* c = audit->add_subcommand("show", "activation records of a line, device or address");
        add_target_options(c, a->t, false);
        c->add_option("--iccid", a->iccid, "the line's ICCID");
        c->add_option("--eid", a->eid, "the device's EID");
        c->add_option("--ip", a->ip, "the source address");
        c->add_option("--limit", a->limit, "at most this many, oldest first")
            ->check(CLI::Range(1, 1'000'000));
        c->add_flag("--json", a->json_out, "JSON instead of a table");
        c->callback([a] { set_exit_code(run_audit_show(*a)); });
    }
}

} // namespace esimguard::app
