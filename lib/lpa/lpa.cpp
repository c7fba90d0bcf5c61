// The LPA's local functions: chip information (ES10b/ES10c GetEID,
// GetEUICCInfo, GetEuiccConfiguredAddresses, SGP.22 §5.7.8, §5.7.20,
// §5.7.11) and local profile management (ES10c, SGP.22 §5.7.15 to §5.7.21).

#include "esimguard/lpa/lpa.hpp"

#include "esimguard/apdu/commands.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "internal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace esimguard::lpa {

namespace {

std::string_view enable_meaning(asn1::enable_profile_result r) {
    switch (r) {
    case asn1::enable_profile_result::ok:
        return "ok";
    case asn1::enable_profile_result::iccid_or_aid_not_found:
        return "no such profile";
    case asn1::enable_profile_result::profile_not_in_disabled_state:
        return "the profile is not disabled";
    case asn1::enable_profile_result::disallowed_by_policy:
        return "disallowed by policy";
    case asn1::enable_profile_result::wrong_profile_reenabling:
        return "wrong profile re-enabling";
    case asn1::enable_profile_result::undefined_error:
        break;
    }
    return "undefined error";
}

std::string_view disable_meaning(asn1::disable_profile_result r) {
    switch (r) {
    case asn1::disable_profile_result::ok:
        return "ok";
    case asn1::disable_profile_result::iccid_or_aid_not_found:
        return "no such profile";
    case asn1::disable_profile_result::profile_not_in_enabled_state:
        return "the profile is not enabled";
    case asn1::disable_profile_result::disallowed_by_policy:
        return "disallowed by policy";
    case asn1::disable_profile_result::undefined_error:
        break;
    }
    return "undefined error";
}

std::string_view delete_meaning(asn1::delete_profile_result r) {
    switch (r) {
    case asn1::delete_profile_result::ok:
        return "ok";
    case asn1::delete_profile_result::iccid_or_aid_not_found:
        return "no such profile";
    case asn1::delete_profile_result::profile_not_in_disabled_state:
        return "the profile is enabled; disable it first";
    case asn1::delete_profile_result::disallowed_by_policy:
        return "disallowed by policy";
    case asn1::delete_profile_result::undefined_error:
        break;
    }
    return "undefined error";
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool is_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

} // namespace

asn1::device_info lpa_config::default_device_info() {
    asn1::device_info d;
    // The TAC lpac sends; SM-DP+s in the field accept it.
    d.tac = {0x35, 0x29, 0x06, 0x11};
    d.capabilities.gsm_supported_release = asn1::version_type{15, 0, 0};
    d.capabilities.utran_supported_release = asn1::version_type{15, 0, 0};
    d.capabilities.eutran_supported_release = asn1::version_type{15, 0, 0};
    return d;
}

result<profile_ref> parse_profile_ref(std::string_view text) {
    std::string_view digits = text;
    while (!digits.empty() && (digits.back() == 'F' || digits.back() == 'f')) {
        digits.remove_suffix(1);
    }
    if (digits.size() >= 18 && digits.size() <= 20 && is_digits(digits)) {
        if (auto v = asn1::iccid_value::parse(digits)) {
            return profile_ref{*v};
        }
    }
    if (text.size() >= 2 && text.size() <= 32 && text.size() % 2 == 0 && is_hex(text)) {
        if (auto b = from_hex(text)) {
            return profile_ref{asn1::isdp_aid{std::move(*b)}};
        }
    }
    return std::unexpected(error{
        .code = errc::invalid_argument,
        .message =
            fmt::format("'{}' is neither an ICCID (18-20 digits) nor an ISD-P AID (hex)", text)});
}

result<download_request> download_request::from_activation_code(std::string_view code) {
    auto ac = rsp::parse_activation_code(code);
    if (!ac) {
        // The parser's message names the field at fault and never echoes the
        // matching ID, which is the user's secret.
        return std::unexpected(
            error{.code = errc::invalid_argument,
                  .message = fmt::format("invalid activation code: {}", ac.error().message)});
    }
    return download_request{.smdp_address = ac->smdp_address,
                            .matching_id = ac->matching_id,
                            .confirmation_code = std::nullopt};
}

lpa::lpa(apdu::es10_client& card, es9p_client& server, lpa_config config)
    : card_(card), server_(server), config_(std::move(config)) {}

result<bytes> lpa::call(byte_view command, std::string_view function) {
    if (!card_.is_open()) {
        if (auto opened = card_.open(); !opened) {
            return std::unexpected(
                error{.code = errc::card_transport,
                      .message = fmt::format("cannot reach the eUICC's ISD-R: {}: {}",
                                             apdu::to_string(opened.error().what),
                                             opened.error().detail)});
        }
    }
    auto answer = card_.call(command);
    if (!answer) {
        const auto& e = answer.error();
        std::string sw;
        if (e.what == apdu::transport_error::code::card_error) {
            sw = fmt::format(" (SW {})", apdu::status_word_hex(e.status_word));
        }
        return std::unexpected(
            error{.code = errc::card_transport,
                  .message = fmt::format("{}: {}{}: {}", function, apdu::to_string(e.what), sw,
                                         e.detail)});
    }
    detail::logger()->debug("{}: {} bytes in, {} bytes out", function, command.size(),
                            answer->size());
    return std::move(*answer);
}

result<std::string> lpa::get_eid() {
    auto der = call(asn1::encode(asn1::get_eid_request{}), "GetEID");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto r = asn1::decode_get_eid_response(*der);
    if (!r) {
        return std::unexpected(detail::card_malformed("GetEID", r.error()));
    }
    return r->eid.to_string();
}

result<chip_info> lpa::get_chip_info() {
    chip_info out;
    auto eid = get_eid();
    if (!eid) {
        return std::unexpected(eid.error());
    }
    out.eid = std::move(*eid);

    auto info1 = call(asn1::encode_get_euicc_info1_request(), "GetEUICCInfo1");
    if (!info1) {
        return std::unexpected(info1.error());
    }
    auto i1 = asn1::decode_euicc_info1(*info1);
    if (!i1) {
        return std::unexpected(detail::card_malformed("GetEUICCInfo1", i1.error()));
    }
    out.info1 = std::move(*i1);

    auto info2 = call(asn1::encode_get_euicc_info2_request(), "GetEUICCInfo2");
    if (!info2) {
        return std::unexpected(info2.error());
    }
    auto i2 = asn1::decode_euicc_info2(*info2);
    if (!i2) {
        return std::unexpected(detail::card_malformed("GetEUICCInfo2", i2.error()));
    }
    out.info2 = std::move(*i2);

    auto addr = call(asn1::encode(asn1::euicc_configured_addresses_request{}),
                     "GetEuiccConfiguredAddresses");
    if (!addr) {
        return std::unexpected(addr.error());
    }
    auto a = asn1::decode_euicc_configured_addresses_response(*addr);
    if (!a) {
        return std::unexpected(detail::card_malformed("GetEuiccConfiguredAddresses", a.error()));
    }
    out.addresses = std::move(*a);
    return out;
}

result<std::vector<asn1::profile_info>> lpa::list_profiles() {
    auto der = call(asn1::encode(asn1::profile_info_list_request{}), "GetProfilesInfo");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto r = asn1::decode_profile_info_list_response(*der);
    if (!r) {
        return std::unexpected(detail::card_malformed("GetProfilesInfo", r.error()));
    }
    if (auto* err = std::get_if<asn1::profile_info_list_error>(&r->result)) {
        return std::unexpected(detail::card_refused(
            "GetProfilesInfo", static_cast<std::uint32_t>(*err),
            *err == asn1::profile_info_list_error::incorrect_input_values ? "incorrect input values"
                                                                          : "undefined error"));
    }
    return std::get<std::vector<asn1::profile_info>>(std::move(r->result));
}

result<void> lpa::enable_profile(const profile_ref& profile, bool refresh) {
    auto der =
        call(asn1::encode(asn1::enable_profile_request{.id = profile, .refresh_flag = refresh}),
             "EnableProfile");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto r = asn1::decode_enable_profile_response(*der);
    if (!r) {
        return std::unexpected(detail::card_malformed("EnableProfile", r.error()));
    }
    if (r->result != asn1::enable_profile_result::ok) {
        return std::unexpected(detail::card_refused(
            "EnableProfile", static_cast<std::uint32_t>(r->result), enable_meaning(r->result)));
    }
    return {};
}

result<void> lpa::disable_profile(const profile_ref& profile, bool refresh) {
    auto der =
        call(asn1::encode(asn1::disable_profile_request{.id = profile, .refresh_flag = refresh}),
             "DisableProfile");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto r = asn1::decode_disable_profile_response(*der);
    if (!r) {
        return std::unexpected(detail::card_malformed("DisableProfile", r.error()));
    }
    if (r->result != asn1::disable_profile_result::ok) {
        return std::unexpected(detail::card_refused(
            "DisableProfile", static_cast<std::uint32_t>(r->result), disable_meaning(r->result)));
    }
    return {};
}

result<void> lpa::delete_profile(const profile_ref& profile) {
    auto der = call(asn1::encode(asn1::delete_profile_request{.id = profile}), "DeleteProfile");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto r = asn1::decode_delete_profile_response(*der);
    if (!r) {
        return std::unexpected(detail::card_malformed("DeleteProfile", r.error()));
    }
    if (r->result != asn1::delete_profile_result::ok) {
        return std::unexpected(detail::card_refused(
            "DeleteProfile", static_cast<std::uint32_t>(r->result), delete_meaning(r->result)));
    }
    return {};
}

result<void> lpa::set_nickname(std::string_view iccid, std::string_view nickname) {
    auto id = asn1::iccid_value::parse(iccid);
    if (!id) {
        return std::unexpected(
            error{.code = errc::invalid_argument,
                  .message = fmt::format("'{}' is not an ICCID (18-20 digits)", iccid)});
    }
    // The limit is in characters; counting UTF-8 lead bytes counts characters.
    const auto chars = std::count_if(nickname.begin(), nickname.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    });
    if (static_cast<std::size_t>(chars) > asn1::profile_nickname_max) {
        return std::unexpected(error{.code = errc::invalid_argument,
                                     .message = fmt::format("a nickname has at most {} characters",
                                                            asn1::profile_nickname_max)});
    }
    auto der = call(asn1::encode(asn1::set_nickname_request{
                        .iccid = *id, .profile_nickname = std::string(nickname), .extensions = {}}),
                    "SetNickname");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto r = asn1::decode_set_nickname_response(*der);
    if (!r) {
        return std::unexpected(detail::card_malformed("SetNickname", r.error()));
    }
    if (r->result != asn1::set_nickname_result::ok) {
        return std::unexpected(detail::card_refused(
            "SetNickname", static_cast<std::uint32_t>(r->result),
            r->result == asn1::set_nickname_result::iccid_not_found ? "no such profile"
                                                                    : "undefined error"));
    }
    return {};
}

} // namespace esimguard::lpa
