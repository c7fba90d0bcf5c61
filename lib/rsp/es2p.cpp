// ES2+ JSON binding (SGP.22 §5.3 functions, §6.5 JSON encoding): the
// operator's downloadOrder, confirmOrder, cancelOrder, releaseProfile and the
// SM-DP+'s handleDownloadProgressInfo.

#include "esimguard/rsp/es2p.hpp"

#include "esimguard/rsp/activation_code.hpp"

#include "json_fields.hpp"

namespace esimguard::rsp {

using detail::guarded;
using detail::guarded_response;
using detail::invalid;
using detail::json;
using detail::malformed;
using detail::missing;
using detail::response_body;

namespace {

parse_result<es2p_request_header> read_request_header(const json& body) {
    auto h = detail::object_member(body, "header");
    if (!h) {
        return std::unexpected(h.error());
    }
    es2p_request_header out;
    auto requester = detail::string_member(**h, "functionRequesterIdentifier", es2p_string_max);
    if (!requester) {
        return std::unexpected(requester.error());
    }
    auto call = detail::string_member(**h, "functionCallIdentifier", es2p_string_max);
    if (!call) {
        return std::unexpected(call.error());
    }
    out.function_requester_identifier = std::move(*requester);
    out.function_call_identifier = std::move(*call);
    return out;
}

json request_header_json(const es2p_request_header& h) {
    return json{{"functionRequesterIdentifier", h.function_requester_identifier},
                {"functionCallIdentifier", h.function_call_identifier}};
}

parse_result<std::optional<asn1::eid_value>> optional_eid(const json& o) {
    auto s = detail::optional_string_member(o, "eid", 64);
    if (!s) {
        return std::unexpected(s.error());
    }
    if (!s->has_value()) {
        return std::optional<asn1::eid_value>{};
    }
    auto e = asn1::eid_value::parse(**s);
    if (!e) {
        return std::unexpected(status(codes::eid_invalid));
    }
    return std::optional<asn1::eid_value>{*e};
}

parse_result<std::optional<asn1::iccid_value>> optional_iccid(const json& o, const char* name) {
    auto s = detail::optional_string_member(o, name, 32);
    if (!s) {
        return std::unexpected(s.error());
    }
    if (!s->has_value()) {
        return std::optional<asn1::iccid_value>{};
    }
    // Operators copy ICCIDs from EF.ICCID dumps, F padding included.
    std::string_view digits = **s;
    while (!digits.empty() && (digits.back() == 'F' || digits.back() == 'f')) {
        digits.remove_suffix(1);
    }
    auto i = asn1::iccid_value::parse(digits);
    if (!i) {
        return std::unexpected(status(codes::iccid_invalid));
    }
    return std::optional<asn1::iccid_value>{*i};
}

parse_result<asn1::iccid_value> required_iccid(const json& o, const status& when_missing) {
    auto i = optional_iccid(o, "iccid");
    if (!i) {
        return std::unexpected(i.error());
    }
    if (!i->has_value()) {
        return std::unexpected(when_missing);
    }
    return **i;
}

parse_result<std::optional<std::string>> optional_matching_id(const json& o) {
    auto s = detail::optional_string_member(o, "matchingId", es2p_string_max);
    if (!s) {
        return std::unexpected(s.error());
    }
    if (s->has_value() && !is_valid_matching_id(**s)) {
        return std::unexpected(status(codes::matching_id_invalid));
    }
    return std::move(*s);
}

void put_optional(json& j, const char* name, const std::optional<std::string>& v) {
    if (v) {
        j[name] = *v;
    }
}

} // namespace

std::string_view to_string(final_profile_status s) {
    return s == final_profile_status::available ? "Available" : "Unavailable";
}

// --- Requests -------------------------------------------------------------------

parse_result<download_order_request> parse_download_order_request(std::string_view body) {
    return guarded<download_order_request>([&]() -> parse_result<download_order_request> {
        auto j = detail::parse_object(body);
        if (!j) {
            return std::unexpected(j.error());
        }
        download_order_request r;
        auto h = read_request_header(*j);
        if (!h) {
            return std::unexpected(h.error());
        }
        r.header = std::move(*h);
        auto eid = optional_eid(*j);
        if (!eid) {
            return std::unexpected(eid.error());
        }
        r.eid = *eid;
        auto iccid = optional_iccid(*j, "iccid");
        if (!iccid) {
            return std::unexpected(iccid.error());
        }
        r.iccid = *iccid;
        auto pt = detail::optional_string_member(*j, "profileType", es2p_string_max);
        if (!pt) {
            return std::unexpected(pt.error());
        }
        r.profile_type = std::move(*pt);
        return r;
    });
}

parse_result<confirm_order_request> parse_confirm_order_request(std::string_view body) {
    return guarded<confirm_order_request>([&]() -> parse_result<confirm_order_request> {
        auto j = detail::parse_object(body);
        if (!j) {
            return std::unexpected(j.error());
        }
        confirm_order_request r;
        auto h = read_request_header(*j);
        if (!h) {
            return std::unexpected(h.error());
        }
        r.header = std::move(*h);
        auto iccid = required_iccid(*j, missing("iccid"));
        if (!iccid) {
            return std::unexpected(iccid.error());
        }
        r.iccid = *iccid;
        auto eid = optional_eid(*j);
        if (!eid) {
            return std::unexpected(eid.error());
        }
        r.eid = *eid;
        auto mid = optional_matching_id(*j);
        if (!mid) {
            return std::unexpected(mid.error());
        }
        r.matching_id = std::move(*mid);
        auto cc = detail::optional_string_member(*j, "confirmationCode", es2p_string_max);
        if (!cc) {
            return std::unexpected(cc.error());
        }
        r.confirmation_code = std::move(*cc);
        auto smds = detail::optional_string_member(*j, "smdsAddress", es2p_string_max);
        if (!smds) {
            return std::unexpected(smds.error());
        }
        r.smds_address = std::move(*smds);
        auto rf = j->find("releaseFlag");
        if (rf == j->end() || rf->is_null()) {
            return std::unexpected(missing("releaseFlag"));
        }
        if (!rf->is_boolean()) {
            return std::unexpected(invalid("releaseFlag", "is not a boolean"));
        }
        r.release_flag = rf->get<bool>();
        return r;
    });
}

parse_result<cancel_order_request> parse_cancel_order_request(std::string_view body) {
    return guarded<cancel_order_request>([&]() -> parse_result<cancel_order_request> {
        auto j = detail::parse_object(body);
        if (!j) {
            return std::unexpected(j.error());
        }
        cancel_order_request r;
        auto h = read_request_header(*j);
        if (!h) {
            return std::unexpected(h.error());
        }
        r.header = std::move(*h);
        // SGP.22 §5.3.3 names 8.2.1/2.2 for a missing ICCID or indicator here.
        auto iccid = required_iccid(*j, status::with_detail(codes::iccid_missing, "iccid"));
        if (!iccid) {
            return std::unexpected(iccid.error());
        }
        r.iccid = *iccid;
        auto eid = optional_eid(*j);
        if (!eid) {
            return std::unexpected(eid.error());
        }
        r.eid = *eid;
        auto mid = optional_matching_id(*j);
        if (!mid) {
            return std::unexpected(mid.error());
        }
        r.matching_id = std::move(*mid);
        auto fpsi = detail::optional_string_member(*j, "finalProfileStatusIndicator", 32);
        if (!fpsi) {
            return std::unexpected(fpsi.error());
        }
        if (!fpsi->has_value()) {
            return std::unexpected(
                status::with_detail(codes::iccid_missing, "finalProfileStatusIndicator"));
        }
        if (**fpsi == "Available") {
            r.final_profile_status_indicator = final_profile_status::available;
        } else if (**fpsi == "Unavailable") {
            r.final_profile_status_indicator = final_profile_status::unavailable;
        } else {
            return std::unexpected(
                invalid("finalProfileStatusIndicator", "is not Available or Unavailable"));
        }
        return r;
    });
}

parse_result<release_profile_request> parse_release_profile_request(std::string_view body) {
    return guarded<release_profile_request>([&]() -> parse_result<release_profile_request> {
        auto j = detail::parse_object(body);
        if (!j) {
            return std::unexpected(j.error());
        }
        release_profile_request r;
        auto h = read_request_header(*j);
        if (!h) {
            return std::unexpected(h.error());
        }
        r.header = std::move(*h);
        auto iccid = required_iccid(*j, missing("iccid"));
        if (!iccid) {
            return std::unexpected(iccid.error());
        }
        r.iccid = *iccid;
        return r;
    });
}

parse_result<handle_download_progress_info_request>
parse_handle_download_progress_info_request(std::string_view body) {
    return guarded<handle_download_progress_info_request>(
        [&]() -> parse_result<handle_download_progress_info_request> {
            auto j = detail::parse_object(body);
            if (!j) {
                return std::unexpected(j.error());
            }
            handle_download_progress_info_request r;
            auto h = read_request_header(*j);
            if (!h) {
                return std::unexpected(h.error());
            }
            r.header = std::move(*h);
            auto eid = optional_eid(*j);
            if (!eid) {
                return std::unexpected(eid.error());
            }
            r.eid = *eid;
            auto iccid = required_iccid(*j, missing("iccid"));
            if (!iccid) {
                return std::unexpected(iccid.error());
            }
            r.iccid = *iccid;
            auto pt = detail::string_member(*j, "profileType", es2p_string_max);
            if (!pt) {
                return std::unexpected(pt.error());
            }
            r.profile_type = std::move(*pt);
            auto ts = detail::string_member(*j, "timestamp", 64);
            if (!ts) {
                return std::unexpected(ts.error());
            }
            if (ts->empty()) {
                return std::unexpected(missing("timestamp"));
            }
            r.timestamp = std::move(*ts);
            auto np = j->find("notificationPointId");
            if (np == j->end() || np->is_null()) {
                return std::unexpected(missing("notificationPointId"));
            }
            if (!np->is_number_unsigned()) {
                return std::unexpected(
                    invalid("notificationPointId", "is not a non-negative integer"));
            }
            const auto npv = np->get<std::uint64_t>();
            if (npv > 0xFFFFFFFFu) {
                return std::unexpected(invalid("notificationPointId", "is too large"));
            }
            r.notification_point_id = static_cast<std::uint32_t>(npv);
            auto nps = detail::object_member(*j, "notificationPointStatus");
            if (!nps) {
                return std::unexpected(nps.error());
            }
            auto st = detail::string_member(**nps, "status", 64);
            if (!st) {
                return std::unexpected(st.error());
            }
            auto kind = detail::execution_status_from(*st);
            if (!kind) {
                return std::unexpected(invalid("status", "is not a known execution status"));
            }
            r.notification_point_status.status = *kind;
            auto scd = (*nps)->find("statusCodeData");
            if (scd != (*nps)->end() && !scd->is_null()) {
                if (!scd->is_object()) {
                    return std::unexpected(invalid("statusCodeData", "is not a JSON object"));
                }
                auto s = detail::read_status_code_data(*scd);
                if (!s) {
                    return std::unexpected(s.error());
                }
                r.notification_point_status.status_code_data = std::move(*s);
            }
            if (auto rd = j->find("resultData"); rd != j->end() && !rd->is_null()) {
                auto b = detail::base64_member(*j, "resultData");
                if (!b) {
                    return std::unexpected(b.error());
                }
                r.result_data = std::move(*b);
            }
            return r;
        });
}

std::string to_json(const download_order_request& r) {
    json j{{"header", request_header_json(r.header)}};
    if (r.eid) {
        j["eid"] = r.eid->to_string();
    }
    if (r.iccid) {
        j["iccid"] = r.iccid->to_string();
    }
    put_optional(j, "profileType", r.profile_type);
    return detail::dump(j);
}

std::string to_json(const confirm_order_request& r) {
    json j{{"header", request_header_json(r.header)},
           {"iccid", r.iccid.to_string()},
           {"releaseFlag", r.release_flag}};
    if (r.eid) {
        j["eid"] = r.eid->to_string();
    }
    put_optional(j, "matchingId", r.matching_id);
    put_optional(j, "confirmationCode", r.confirmation_code);
    put_optional(j, "smdsAddress", r.smds_address);
    return detail::dump(j);
}

std::string to_json(const cancel_order_request& r) {
    json j{
        {"header", request_header_json(r.header)},
        {"iccid", r.iccid.to_string()},
        {"finalProfileStatusIndicator", std::string(to_string(r.final_profile_status_indicator))}};
    if (r.eid) {
        j["eid"] = r.eid->to_string();
    }
    put_optional(j, "matchingId", r.matching_id);
    return detail::dump(j);
}

std::string to_json(const release_profile_request& r) {
    return detail::dump(
        json{{"header", request_header_json(r.header)}, {"iccid", r.iccid.to_string()}});
}

std::string to_json(const handle_download_progress_info_request& r) {
    json status_json{{"status", std::string(to_string(r.notification_point_status.status))}};
    if (r.notification_point_status.status_code_data) {
        status_json["statusCodeData"] =
            detail::status_code_data_json(*r.notification_point_status.status_code_data);
    }
    json j{{"header", request_header_json(r.header)},
           {"iccid", r.iccid.to_string()},
           {"profileType", r.profile_type},
           {"timestamp", r.timestamp},
           {"notificationPointId", r.notification_point_id},
           {"notificationPointStatus", status_json}};
    if (r.eid) {
        j["eid"] = r.eid->to_string();
    }
    if (r.result_data) {
        j["resultData"] = to_base64(*r.result_data);
    }
    return detail::dump(j);
}

// --- Responses ------------------------------------------------------------------

std::string to_json(const download_order_response& r) {
    json j = detail::success_envelope();
    j["iccid"] = r.iccid.to_string();
    return detail::dump(j);
}

std::string to_json(const confirm_order_response& r) {
    json j = detail::success_envelope();
    j["matchingId"] = r.matching_id;
    if (r.eid) {
        j["eid"] = r.eid->to_string();
    }
    put_optional(j, "smdpAddress", r.smdp_address);
    return detail::dump(j);
}

response_result<download_order_response> parse_download_order_response(std::string_view body) {
    return guarded_response<download_order_response>(
        [&]() -> response_result<download_order_response> {
            auto j = response_body(body);
            if (!j) {
                return std::unexpected(j.error());
            }
            auto iccid = required_iccid(*j, missing("iccid"));
            if (!iccid) {
                return std::unexpected(malformed(iccid.error()));
            }
            return download_order_response{*iccid};
        });
}

response_result<confirm_order_response> parse_confirm_order_response(std::string_view body) {
    return guarded_response<confirm_order_response>(
        [&]() -> response_result<confirm_order_response> {
            auto j = response_body(body);
            if (!j) {
                return std::unexpected(j.error());
            }
            confirm_order_response r;
            auto mid = optional_matching_id(*j);
            if (!mid) {
                return std::unexpected(malformed(mid.error()));
            }
            if (!mid->has_value()) {
                return std::unexpected(malformed(missing("matchingId")));
            }
            r.matching_id = std::move(**mid);
            auto eid = optional_eid(*j);
            if (!eid) {
                return std::unexpected(malformed(eid.error()));
            }
            r.eid = *eid;
            auto addr = detail::optional_string_member(*j, "smdpAddress", es2p_string_max);
            if (!addr) {
                return std::unexpected(malformed(addr.error()));
            }
            r.smdp_address = std::move(*addr);
            return r;
        });
}

} // namespace esimguard::rsp
