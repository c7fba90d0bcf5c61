// Field readers and writers shared by the ES9+ and ES2+ packers (SGP.22 §6.5).

#include "json_fields.hpp"

#include <fmt/format.h>

namespace esimguard::rsp::detail {

status missing(std::string_view field) {
    return status::with_detail(codes::mandatory_element_missing, field);
}

status invalid(std::string_view field, std::string_view why) {
    return status::with_detail(codes::invalid_format, fmt::format("{} {}", field, why));
}

std::string der_failure(const asn1::error& e) {
    if (e.field.empty()) {
        return fmt::format("is not valid DER ({} at byte {})", asn1::to_string(e.code), e.offset);
    }
    return fmt::format("is not valid DER ({} in {} at byte {})", asn1::to_string(e.code), e.field,
                       e.offset);
}

parse_result<json> parse_object(std::string_view body) {
    if (body.size() > max_body_size) {
        return std::unexpected(invalid("body", "is too large"));
    }
    try {
        json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded()) {
            return std::unexpected(invalid("body", "is not valid JSON"));
        }
        if (!j.is_object()) {
            return std::unexpected(invalid("body", "is not a JSON object"));
        }
        return j;
    } catch (const std::exception&) {
        // allow_exceptions=false covers syntax errors; this covers the rest
        // (allocation failure on hostile sizes).
        return std::unexpected(invalid("body", "could not be parsed"));
    }
}

namespace {

const json* find(const json& o, const char* name) {
    auto it = o.find(name);
    if (it == o.end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

} // namespace

parse_result<const json*> object_member(const json& o, const char* name) {
    const json* v = find(o, name);
    if (v == nullptr) {
        return std::unexpected(missing(name));
    }
    if (!v->is_object()) {
        return std::unexpected(invalid(name, "is not a JSON object"));
    }
    return v;
}

parse_result<std::optional<std::string>> optional_string_member(const json& o, const char* name,
                                                                std::size_t max) {
    const json* v = find(o, name);
    if (v == nullptr) {
        return std::optional<std::string>{};
    }
    if (!v->is_string()) {
        return std::unexpected(invalid(name, "is not a string"));
    }
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max) {
        return std::unexpected(invalid(name, "is too long"));
    }
    return std::optional<std::string>{s};
}

parse_result<std::string> string_member(const json& o, const char* name, std::size_t max) {
    auto v = optional_string_member(o, name, max);
    if (!v) {
        return std::unexpected(v.error());
    }
    if (!v->has_value()) {
        return std::unexpected(missing(name));
    }
    return std::move(**v);
}

parse_result<bytes> base64_member(const json& o, const char* name, std::size_t max) {
    // Bound the text before decoding so that a huge string costs nothing more.
    const std::size_t max_chars = (max + 2) / 3 * 4;
    auto s = string_member(o, name, max_chars);
    if (!s) {
        return std::unexpected(s.error());
    }
    if (s->empty()) {
        return std::unexpected(missing(name));
    }
    auto b = from_base64(*s);
    if (!b) {
        return std::unexpected(invalid(name, "is not valid base64"));
    }
    if (b->size() > max) {
        return std::unexpected(invalid(name, "is too large"));
    }
    return std::move(*b);
}

parse_result<bytes> transaction_id_member(const json& o, const char* name) {
    auto s = string_member(o, name, 2 * asn1::transaction_id_max);
    if (!s) {
        return std::unexpected(s.error());
    }
    if (s->empty()) {
        return std::unexpected(missing(name));
    }
    auto b = from_hex(*s);
    if (!b || b->size() < asn1::transaction_id_min) {
        return std::unexpected(invalid(name, "is not hex of 1 to 16 bytes"));
    }
    return std::move(*b);
}

std::optional<execution_status> execution_status_from(std::string_view s) {
    for (auto v : {execution_status::executed_success, execution_status::executed_with_warning,
                   execution_status::failed, execution_status::expired}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

parse_result<status> read_status_code_data(const json& o) {
    auto subject = string_member(o, "subjectCode", 32);
    if (!subject) {
        return std::unexpected(subject.error());
    }
    auto reason = string_member(o, "reasonCode", 32);
    if (!reason) {
        return std::unexpected(reason.error());
    }
    auto message = optional_string_member(o, "message", max_text);
    if (!message) {
        return std::unexpected(message.error());
    }
    return status(std::move(*subject), std::move(*reason), message->value_or(""));
}

std::expected<function_execution_status, response_error> read_response_header(const json& body) {
    auto header = object_member(body, "header");
    if (!header) {
        return std::unexpected(malformed(header.error()));
    }
    auto fes = object_member(**header, "functionExecutionStatus");
    if (!fes) {
        return std::unexpected(malformed(fes.error()));
    }
    auto st = string_member(**fes, "status", 64);
    if (!st) {
        return std::unexpected(malformed(st.error()));
    }
    auto kind = execution_status_from(*st);
    if (!kind) {
        return std::unexpected(malformed(invalid("status", "is not a known execution status")));
    }
    function_execution_status out;
    out.status = *kind;
    if (const json* scd = find(**fes, "statusCodeData"); scd != nullptr) {
        if (!scd->is_object()) {
            return std::unexpected(malformed(invalid("statusCodeData", "is not a JSON object")));
        }
        auto s = read_status_code_data(*scd);
        if (!s) {
            return std::unexpected(malformed(s.error()));
        }
        out.status_code_data = std::move(*s);
    }
    if (out.status == execution_status::failed || out.status == execution_status::expired) {
        if (out.status_code_data) {
            return std::unexpected(response_error{true, *out.status_code_data});
        }
        return std::unexpected(response_error{
            true, status::with_detail(codes::invalid_format,
                                      "the server reported a failure without statusCodeData")});
    }
    return out;
}

json status_code_data_json(const status& s) {
    return json{
        {"subjectCode", s.subject_code}, {"reasonCode", s.reason_code}, {"message", s.message}};
}

json execution_status_json(const function_execution_status& s) {
    json j{{"status", std::string(to_string(s.status))}};
    if (s.status_code_data) {
        j["statusCodeData"] = status_code_data_json(*s.status_code_data);
    }
    return j;
}

json success_envelope() {
    return json{{"header", {{"functionExecutionStatus", {{"status", "Executed-Success"}}}}}};
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::expected<json, response_error> response_body(std::string_view body) {
    auto j = parse_object(body);
    if (!j) {
        return std::unexpected(malformed(j.error()));
    }
    auto h = read_response_header(*j);
    if (!h) {
        return std::unexpected(h.error());
    }
    return std::move(*j);
}

} // namespace esimguard::rsp::detail
