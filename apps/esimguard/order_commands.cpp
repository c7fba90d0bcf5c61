// `esimguard order create|show|seed`: orders on the running server of
// `make run`, through its admin API. The server's URL, the admin
// token and the operator come from files that `make run` wrote under ./var,
// so that no flag is needed. This is the operator's own terminal: printing the
// activation and confirmation codes here is the point; nothing is logged.

#include "commands.hpp"

#include "esimguard/asn1/iccid.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/http/client.hpp"
#include "esimguard/qr/qr.hpp"
#include "esimguard/rsp/saip.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace esimguard::app {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct create_args {
    std::string var = "var";
    std::string eid;
    bool no_cc = false;
    std::string qr;
    std::string operator_id;
    std::string profile_type = "esimguard";
    std::string iccid;
};

struct seed_args {
    std::string var = "var";
    int profiles = 3;
    int wait_seconds = 15;
};

struct show_args {
    std::string var = "var";
    std::string id;
};

std::optional<std::string> read_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
        return std::nullopt;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    return line;
}

// The running server as `make run` describes it under VAR.
struct admin_target {
    std::string url;   ///< https://host:port
    std::string token; ///< admin bearer token (never printed)
    std::string operator_id;
    fs::path var;
};

std::optional<admin_target> load_target(const fs::path& var, std::string_view who) {
    admin_target t;
    t.var = var;
    auto url = read_line(var / "server-url");
    auto token = read_line(var / "admin.token");
    auto op = read_line(var / "operator-id");
    if (!url || !token || !op) {
        fmt::print(stderr,
                   "esimguard {}: no running setup found under {} (server-url, admin.token, "
                   "operator-id): start the server with `make run` first, or pass --var DIR\n",
                   who, var.string());
        return std::nullopt;
    }
    t.url = *url;
    t.token = *token;
    t.operator_id = *op;
    return t;
}

// Calls the admin API; nullopt (after printing why) when it cannot be reached.
struct admin_answer {
    int status = 0;
    json body;
};

std::optional<admin_answer> call_admin(http::client& client, const admin_target& t,
                                       std::string_view method, std::string_view path,
                                       const json* body, std::string_view who) {
    http::header_list headers{{"Authorization", "Bearer " + t.token}};
    std::string payload;
    if (body != nullptr) {
        headers.push_back({"Content-Type", "application/json"});
        payload = body->dump();
    }
    auto r = client.request(method, t.url + std::string(path), std::move(payload), headers);
    if (!r) {
        fmt::print(stderr, "esimguard {}: cannot reach the server at {}: {} ({})\n", who, t.url,
                   r.error().detail, http::to_string(r.error().code));
        return std::nullopt;
    }
    admin_answer a;
    a.status = r->status;
    a.body = json::parse(r->body, nullptr, false);
    if (a.body.is_discarded()) {
        a.body = json::object();
    }
    return a;
}

std::string error_text(const admin_answer& a) {
    const json& e = a.body.contains("error") ? a.body["error"] : json::object();
    std::string text = fmt::format("HTTP {}", a.status);
    if (e.contains("subject_code")) {
        text += fmt::format(" {}/{}", e["subject_code"].get<std::string>(),
                            e["reason_code"].get<std::string>());
    }
    if (e.contains("message")) {
        text += ": " + e["message"].get<std::string>();
    }
    return text;
}

std::optional<http::client> admin_client(const admin_target& t, std::string_view who) {
    http::client_config cc;
    // The server presents the DPtls chain of the test PKI; its CI is the root.
    const fs::path ci = t.var / "pki" / "nist" / "ci.pem";
    if (fs::exists(ci)) {
        cc.trusted_ca_files.push_back(ci);
    }
    auto c = http::client::create(cc);
    if (!c) {
        fmt::print(stderr, "esimguard {}: {}\n", who, c.error().detail);
        return std::nullopt;
    }
    return std::move(*c);
}

std::optional<std::string> random_digits(std::size_t n) {
    std::string out;
    while (out.size() < n) {
        auto b = crypto::random_bytes(32);
        if (!b) {
            return std::nullopt;
        }
        for (auto v : *b) {
            if (v < 250 && out.size() < n) {
                out.push_back(static_cast<char>('0' + v % 10));
            }
        }
    }
    return out;
}

// ITU-T E.118 ICCIDs end with a Luhn check digit.
char luhn_digit(std::string_view digits) {
    int sum = 0;
    bool twice = true;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        int d = *it - '0';
        if (twice) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        twice = !twice;
    }
    return static_cast<char>('0' + (10 - sum % 10) % 10);
}

// Adds one fresh test profile of `type` to the operator's stock, so that
// `order create` keeps working after the sample profiles are used up.
bool add_fresh_profile(http::client& client, const admin_target& t, const std::string& type) {
    auto body = random_digits(13);
    auto imsi_tail = random_digits(10);
    if (!body || !imsi_tail) {
        return false;
    }
    std::string iccid = "89999" + *body;
    iccid.push_back(luhn_digit(iccid));
    auto parsed = asn1::iccid_value::parse(iccid);
    if (!parsed) {
        return false;
    }
    rsp::profile_package_params p;
    p.iccid = *parsed;
    p.imsi = "00101" + *imsi_tail;
    p.profile_type = type;
    auto der = rsp::make_profile_package(p);
    if (!der) {
        fmt::print(stderr, "esimguard order: {}\n", der.error().message);
        return false;
    }
    json req{{"operator", t.operator_id},
             {"package", to_base64(*der)},
             {"profile_type", type},
             {"profile_name", "esimguard test profile"}};
    auto a = call_admin(client, t, "POST", "/admin/profiles", &req, "order");
    if (!a) {
        return false;
    }
    if (a->status != 201) {
        fmt::print(stderr, "esimguard order: adding a profile failed: {}\n", error_text(*a));
        return false;
    }
    fmt::print("added profile {} to the stock\n", iccid);
    return true;
}

// Waits for /healthz, registers the operator of VAR (an existing one is
// fine) and stocks fresh sample profiles: what `make run` does on a first run.
void seed(const seed_args& args) {
    auto t = load_target(args.var, "order seed");
    if (!t) {
        set_exit_code(2);
        return;
    }
    auto client = admin_client(*t, "order seed");
    if (!client) {
        set_exit_code(1);
        return;
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(args.wait_seconds);
    for (;;) {
        auto r = client->get(t->url + "/healthz");
        if (r && r->status == 200) {
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            fmt::print(stderr, "esimguard order seed: {} is not healthy: {}\n", t->url,
                       r ? fmt::format("HTTP {}", r->status) : r.error().detail);
            set_exit_code(1);
            return;
        }
        client->close_connections();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    json op{{"id", t->operator_id}, {"display_name", "Sample Operator"}};
    if (auto es2 = read_line(t->var / "operator.es2.token"); es2 && !es2->empty()) {
        op["es2_token"] = *es2;
    } else {
        fmt::print(stderr, "esimguard order seed: {} is missing\n",
                   (t->var / "operator.es2.token").string());
        set_exit_code(2);
        return;
    }
    auto a = call_admin(*client, *t, "POST", "/admin/operators", &op, "order seed");
    if (!a) {
        set_exit_code(1);
        return;
    }
    if (a->status == 201) {
        fmt::print("registered operator {}\n", t->operator_id);
    } else if (a->status != 409) {
        fmt::print(stderr, "esimguard order seed: operator refused: {}\n", error_text(*a));
        set_exit_code(1);
        return;
    }
    for (int i = 0; i < args.profiles; ++i) {
        if (!add_fresh_profile(*client, *t, "esimguard")) {
            set_exit_code(1);
            return;
        }
    }
}

void create_order(const create_args& args) {
    auto t = load_target(args.var, "order create");
    if (!t) {
        set_exit_code(2);
        return;
    }
    auto client = admin_client(*t, "order create");
    if (!client) {
        set_exit_code(1);
        return;
    }
    json req{{"operator", args.operator_id.empty() ? t->operator_id : args.operator_id},
             {"confirmation_code_required", !args.no_cc}};
    if (!args.iccid.empty()) {
        req["iccid"] = args.iccid;
    } else {
        req["profile_type"] = args.profile_type;
    }
    if (!args.eid.empty()) {
        req["eid"] = args.eid;
    }
    auto a = call_admin(*client, *t, "POST", "/admin/orders", &req, "order create");
    if (a && a->status == 409 && args.iccid.empty() &&
        a->body.value("/error/subject_code"_json_pointer, "") == "8.2.5") {
        // Out of stock for this type: make one more profile and ask again.
        if (!add_fresh_profile(*client, *t, args.profile_type)) {
            set_exit_code(1);
            return;
        }
        a = call_admin(*client, *t, "POST", "/admin/orders", &req, "order create");
    }
    if (!a) {
        set_exit_code(1);
        return;
    }
    if (a->status != 201) {
        fmt::print(stderr, "esimguard order create: refused: {}\n", error_text(*a));
        set_exit_code(1);
        return;
    }
    const json& o = a->body;
    const std::string order_id = o.value("order_id", "");
    const std::string ac = o.value("activation_code", "");
    fs::path qr = args.qr.empty() ? t->var / "qr" / (order_id + ".png") : fs::path(args.qr);
    std::error_code ec;
    if (qr.has_parent_path()) {
        fs::create_directories(qr.parent_path(), ec);
    }
    auto png = qr::write_png(ac, qr);

    fmt::print("order:             {}\n", order_id);
    fmt::print("profile (ICCID):   {}\n", o.value("iccid", ""));
    if (o.contains("eid") && o["eid"].is_string()) {
        fmt::print("bound to EID:      {}\n", o["eid"].get<std::string>());
    }
    fmt::print("state:             {} (expires {})\n", o.value("state", ""),
               o.value("expires_at", ""));
    fmt::print("activation code:   {}\n", ac);
    if (o.contains("confirmation_code") && o["confirmation_code"].is_string()) {
        fmt::print("confirmation code: {}\n", o["confirmation_code"].get<std::string>());
    } else {
        fmt::print("confirmation code: (none required)\n");
    }
    if (png) {
        fmt::print("QR image:          {}\n", qr.string());
    } else {
        fmt::print(stderr, "esimguard order create: QR image not written: {}\n", png.error());
        set_exit_code(1);
    }
}

void show_order(const show_args& args) {
    auto t = load_target(args.var, "order show");
    if (!t) {
        set_exit_code(2);
        return;
    }
    auto client = admin_client(*t, "order show");
    if (!client) {
        set_exit_code(1);
        return;
    }
    auto a = call_admin(*client, *t, "GET", "/admin/orders/" + args.id, nullptr, "order show");
    if (!a) {
        set_exit_code(1);
        return;
    }
    if (a->status != 200) {
        fmt::print(stderr, "esimguard order show: {}\n", error_text(*a));
        set_exit_code(1);
        return;
    }
    const json& o = a->body;
    fmt::print("order:      {}\n", o.value("order_id", ""));
    fmt::print("operator:   {}\n", o.value("operator", ""));
    fmt::print("profile:    {} ({})\n", o.value("iccid", ""), o.value("profile_type", ""));
    fmt::print("state:      {}{}\n", o.value("state", ""),
               o.value("locked", false)
                   ? fmt::format(" (locked: {})", o["lock_reason"].is_string()
                                                      ? o["lock_reason"].get<std::string>()
                                                      : "")
                   : "");
    fmt::print("eid:        {}\n", o["eid"].is_string() ? o["eid"].get<std::string>() : "-");
    fmt::print("downloads:  {}/{}   wrong codes: {}/{}\n", o.value("download_attempts", 0),
               o.value("download_attempt_limit", 0), o.value("cc_failures", 0),
               o.value("cc_failure_limit", 0));
    fmt::print("expires:    {}\n", o.value("expires_at", ""));
    fmt::print("history:\n");
    for (const auto& e : o.value("history", json::array())) {
        fmt::print("  {}  {:<20} {}\n", e.value("at", ""), e.value("name", ""),
                   e.value("detail", ""));
    }
}

} // namespace

void register_order_commands(CLI::App& app) {
    auto* order = app.add_subcommand(
        "order", "Orders on the running server of `make run` (through its admin API)");
    order->require_subcommand(1);

    auto c = std::make_shared<create_args>();
    auto* create = order->add_subcommand("create", "Create an order and print its activation code");
    create->add_option("--eid", c->eid, "Bind the order to this eUICC (32 digits)");
    create->add_flag("--no-cc", c->no_cc, "Do not require a confirmation code");
    create->add_option("--qr", c->qr, "Write the QR image here (default VAR/qr/<order>.png)");
    create->add_option("--var", c->var, "The directory `make run` set up")->capture_default_str();
    create->add_option("--operator", c->operator_id, "Operator id (default: VAR/operator-id)");
    create->add_option("--profile-type", c->profile_type, "Profile type to take from the stock")
        ->capture_default_str();
    create->add_option("--iccid", c->iccid, "A specific profile instead of any of the type");
    create->callback([c] { create_order(*c); });

    auto sd = std::make_shared<seed_args>();
    auto* seed_cmd = order->add_subcommand(
        "seed", "Wait for the server, register VAR's operator and stock sample profiles");
    seed_cmd->add_option("--var", sd->var, "The directory `make run` set up")
        ->capture_default_str();
    seed_cmd->add_option("--profiles", sd->profiles, "Sample profiles to add")
        ->capture_default_str();
    seed_cmd->add_option("--wait", sd->wait_seconds, "Seconds to wait for /healthz")
        ->capture_default_str();
    seed_cmd->callback([sd] { seed(*sd); });

    auto s = std::make_shared<show_args>();
    auto* show = order->add_subcommand("show", "Show an order's state and history");
    show->add_option("id", s->id, "Order id")->required();
    show->add_option("--var", s->var, "The directory `make run` set up")->capture_default_str();
    show->callback([s] { show_order(*s); });
}

} // namespace esimguard::app
