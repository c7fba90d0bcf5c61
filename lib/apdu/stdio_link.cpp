// The card side of lpac's stdio APDU driver (driver/apdu/stdio.c,
// LPAC_APDU=stdio): one JSON request per line in, one JSON answer per line out.

#include "channel_ops.hpp"
#include "logger.hpp"

#include "esimguard/apdu/links.hpp"

#include <nlohmann/json.hpp>

#include <istream>
#include <ostream>
#include <streambuf>

namespace esimguard::apdu {

using json = nlohmann::json;

struct stdio_link::state {
    explicit state(card& c) : target(c) {}
    card& target;
    std::uint64_t errors = 0;
};

namespace {

std::string answer_line(int ecode, const bytes* data = nullptr) {
    json payload = {{"ecode", ecode}};
    if (data) {
        payload["data"] = to_hex_upper(*data);
    }
    return json{{"type", "apdu"}, {"payload", std::move(payload)}}.dump();
}

} // namespace

stdio_link::stdio_link(card& target) : state_(std::make_unique<state>(target)) {}

stdio_link::~stdio_link() = default;

std::string stdio_link::answer(std::string_view line) {
    auto log = detail::apdu_logger();
    auto refuse = [&](std::string_view why) {
        // Counted and logged once per line; the loop goes on.
        ++state_->errors;
        log->warn("stdio link: refused a request line ({}), {} so far", why, state_->errors);
        return answer_line(-1);
    };

    json request = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
        return refuse("not a JSON object");
    }
    auto type = request.find("type");
    if (type == request.end() || !type->is_string() ||
        type->get_ref<const std::string&>() != "apdu") {
        return refuse("type is not \"apdu\"");
    }
    auto payload = request.find("payload");
    if (payload == request.end() || !payload->is_object()) {
        return refuse("no payload object");
    }
    auto func_it = payload->find("func");
    if (func_it == payload->end() || !func_it->is_string()) {
        return refuse("no func");
    }
    const std::string& func = func_it->get_ref<const std::string&>();
    std::optional<bytes> param;
    if (auto p = payload->find("param"); p != payload->end() && !p->is_null()) {
        if (!p->is_string()) {
            return refuse("param is neither a string nor null");
        }
        param = from_hex(p->get_ref<const std::string&>());
        if (!param) {
            return refuse("param is not hex");
        }
    }

    card& c = state_->target;
    detail::raw_transmit raw = [&c](byte_view cmd) -> transport_result<bytes> {
        return c.transmit(cmd);
    };

    if (func == "connect") {
        c.reset();
        return answer_line(0);
    }
    if (func == "disconnect") {
        c.power_off();
        return answer_line(0);
    }
    if (func == "logic_channel_open") {
        if (!param || param->empty()) {
            return refuse("logic_channel_open without an AID");
        }
        auto ch = detail::open_channel(raw, *param);
        if (!ch) {
            log->warn("stdio link: logical channel refused: {}", ch.error().detail);
            return answer_line(-1);
        }
        return answer_line(*ch);
    }
    if (func == "logic_channel_close") {
        if (!param || param->size() != 1) {
            return refuse("logic_channel_close needs one channel byte");
        }
        detail::close_channel(raw, (*param)[0]);
        return answer_line(0);
    }
    if (func == "transmit") {
        if (!param || param->size() < 4) {
            return refuse("transmit needs a command APDU of 4 bytes or more");
        }
        bytes response = c.transmit(*param);
        return answer_line(0, &response);
    }
    return refuse("unknown func");
}

void stdio_link::run(std::istream& in, std::ostream& out, std::size_t max_line) {
    std::streambuf* buf = in.rdbuf();
    if (!buf) {
        return;
    }
    std::string line;
    bool too_long = false;
    bool eof = false;
    while (!eof) {
        line.clear();
        too_long = false;
        // Read by hand instead of std::getline, so that an endless line cannot
        // grow memory without bound.
        while (true) {
            const int ch = buf->sbumpc();
            if (ch == std::char_traits<char>::eof()) {
                eof = true;
                break;
            }
            if (ch == '\n') {
                break;
            }
            if (line.size() < max_line) {
                line.push_back(static_cast<char>(ch));
            } else {
                too_long = true;
            }
        }
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty() && !too_long) {
            continue;
        }
        if (too_long) {
            ++state_->errors;
            detail::apdu_logger()->warn("stdio link: refused a line over {} bytes", max_line);
            out << answer_line(-1) << '\n';
        } else {
            out << answer(line) << '\n';
        }
        // The peer waits for each answer before it writes the next request.
        out.flush();
        if (!out) {
            detail::apdu_logger()->warn("stdio link: output closed, stopping");
            return;
        }
    }
}

} // namespace esimguard::apdu
