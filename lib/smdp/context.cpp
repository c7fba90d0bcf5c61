// Shared helpers of the SM-DP+ procedures: time, randomness, operator
// notifications, metadata and log prefixes.

#include "context.hpp"

#include "esimguard/crypto/hash.hpp"

#include <algorithm>
#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace esimguard::smdp::detail {

std::shared_ptr<const std::vector<crypto::crl>> context::crls() const {
    std::lock_guard lock(crls_live->mutex);
    return crls_live->set;
}

store::time_point context::now() const {
    return config.clock ? config.clock() : std::chrono::system_clock::now();
}

std::expected<bytes, rsp::status> context::random_bytes(std::size_t n) const {
    auto b = random->generate(n);
    if (!b) {
        log->error("random source failed: {}", b.error().detail);
        return std::unexpected(internal_error("random source failure"));
    }
    return std::move(*b);
}

const ci_credentials* context::credentials_for(byte_view ci_pkid) const {
    for (const auto& c : config.credentials) {
        if (c.ci.key().key_id() == to_bytes(ci_pkid)) {
            return &c;
        }
    }
    return nullptr;
}

void context::count_download(std::string_view outcome) const {
    metrics
        ->counter("smdp_downloads_total", "Profile downloads by outcome",
                  {{"outcome", std::string(outcome)}})
        .inc();
}

void context::add_event(std::string_view order_id, std::string_view name,
                        std::string_view detail) const {
    if (auto r = db.add_order_event(order_id, now(), name, detail); !r) {
        log->warn("order {}: history not written: {}", order_id, r.error().message);
    }
}

void context::notify_operator(const store::order_record& order, notification_point point,
                              const rsp::progress_status& status, std::optional<bytes> result_data,
                              std::optional<std::string> eid) const {
    auto op = db.find_operator(order.operator_id);
    if (!op) {
        log->warn("order {}: operator {} not found for progress info", order.order_id,
                  order.operator_id);
        return;
    }
    if (!op->download_progress_url) {
        return;
    }
    auto iccid = asn1::iccid_value::parse(order.iccid);
    if (!iccid) {
        log->error("order {}: stored ICCID is malformed", order.order_id);
        return;
    }
    rsp::handle_download_progress_info_request m;
    m.header.function_requester_identifier = config.addresses.front();
    if (auto id = random->generate(8)) {
        m.header.function_call_identifier = to_hex(*id);
    }
    const auto& which_eid = eid ? eid : order.eid;
    if (which_eid) {
        if (auto e = asn1::eid_value::parse(*which_eid)) {
            m.eid = *e;
        }
    }
    m.iccid = *iccid;
    m.profile_type = order.profile_type;
    m.timestamp = iso8601(now());
    m.notification_point_id = static_cast<std::uint32_t>(point);
    m.notification_point_status = status;
    m.result_data = std::move(result_data);
    auto q = db.enqueue_notification(order.operator_id, order.order_id, rsp::to_json(m), now());
    if (!q) {
        log->warn("order {}: progress info not queued: {}", order.order_id, q.error().message);
    }
}

rsp::status internal_error(std::string_view what) {
    // 8.8 is the SM-DP+ subject; 5.x would blame the network. The message
    // stays generic: internals are for the log, not for the device.
    return rsp::status("8.8", "3.1",
                       fmt::format("The SM-DP+ could not process the request ({})", what));
}

rsp::status locked_order_status(const store::order_record& order) {
    if (order.lock_reason && *order.lock_reason == "cc_retries_exceeded") {
        return rsp::codes::confirmation_code_retries_exceeded;
    }
    return rsp::status::with_detail(rsp::codes::profile_not_released, "order paused");
}

std::string session_prefix(std::string_view transaction_id_hex,
                           std::optional<std::string_view> eid) {
    return fmt::format("txn={} eid={}", transaction_id_hex, eid ? mask_eid(*eid) : "-");
}

std::string iso8601(store::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string sha256_hex(byte_view data) {
    return to_hex(crypto::sha256(data));
}

std::expected<asn1::store_metadata_request, rsp::status>
profile_metadata_for(const context& ctx, const store::profile_record& profile) {
    auto iccid = asn1::iccid_value::parse(profile.iccid);
    if (!iccid) {
        return std::unexpected(internal_error("stored profile has a malformed ICCID"));
    }
    asn1::store_metadata_request m;
    m.iccid = *iccid;
    // The eUICC refuses strings over their SIZE: cut rather than fail the download.
    m.service_provider_name = profile.metadata.service_provider_name.substr(0, 32);
    m.profile_name = profile.metadata.profile_name.empty()
                         ? "Profile " + profile.iccid
                         : profile.metadata.profile_name.substr(0, 64);
    m.klass = static_cast<asn1::profile_class>(static_cast<int>(profile.metadata.klass));
    // Enable/disable/delete notifications come back here, so that the order
    // follows the profile's life on the device (install results always do).
    asn1::notification_configuration_information nci;
    nci.profile_management_operation = asn1::bit_string::from_bits(
        {asn1::notification_enable, asn1::notification_disable, asn1::notification_delete});
    nci.notification_address = ctx.config.addresses.front();
    m.notification_configuration_info = std::vector{nci};
    return m;
}

std::optional<bytes> encode_oid(std::string_view dotted) {
    std::vector<std::uint64_t> arcs;
    std::size_t pos = 0;
    while (pos <= dotted.size()) {
        const auto dot = dotted.find('.', pos);
        const auto part =
            dotted.substr(pos, dot == std::string_view::npos ? dotted.size() - pos : dot - pos);
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (part.empty() || ec != std::errc{} || p != part.data() + part.size()) {
            return std::nullopt;
        }
        arcs.push_back(v);
        if (dot == std::string_view::npos) {
            break;
        }
        pos = dot + 1;
    }
    if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39)) {
        return std::nullopt;
    }
    bytes out;
    auto put = [&out](std::uint64_t v) {
        std::uint8_t tmp[10];
        int n = 0;
        do {
            tmp[n++] = static_cast<std::uint8_t>(v & 0x7F);
            v >>= 7;
        } while (v != 0);
        while (n > 0) {
            --n;
            out.push_back(static_cast<std::uint8_t>(tmp[n] | (n > 0 ? 0x80 : 0x00)));
        }
    };
    put(arcs[0] * 40 + arcs[1]);
    for (std::size_t i = 2; i < arcs.size(); ++i) {
        put(arcs[i]);
    }
    return out;
}

bytes signature_tlv(byte_view raw_signature) {
    // Sized up front: g++ 12 at -O2 warns (falsely, -Warray-bounds) on an
    // insert into a vector built from a 3-element initializer list.
    bytes out(3 + raw_signature.size());
    out[0] = 0x5F;
    out[1] = 0x37;
    out[2] = 0x40;
    std::copy(raw_signature.begin(), raw_signature.end(), out.begin() + 3);
    return out;
}

} // namespace esimguard::smdp::detail

namespace esimguard::smdp {

std::string mask_eid(std::string_view eid) {
    if (eid.size() < 12) {
        return "***";
    }
    return fmt::format("{}…{}", eid.substr(0, 8), eid.substr(eid.size() - 4));
}

std::string_view to_string(notification_outcome o) {
    switch (o) {
    case notification_outcome::install_success:
        return "install_success";
    case notification_outcome::install_failure:
        return "install_failure";
    case notification_outcome::profile_enabled:
        return "profile_enabled";
    case notification_outcome::profile_disabled:
        return "profile_disabled";
    case notification_outcome::profile_deleted:
        return "profile_deleted";
    case notification_outcome::ignored:
        return "ignored";
    }
    return "unknown";
}

} // namespace esimguard::smdp
