// ES10b notification functions and PendingNotification (SGP.22 §5.7.9-§5.7.11,
// §5.6.4), after RSPDefinitions: BF28/BF2B responses are CHOICEs whose
// alternatives take automatic tags [0] (A0, a SEQUENCE OF) and [1] (81).

#include "esimguard/asn1/notifications.hpp"

#include "message_parts2.hpp"

#include <limits>

namespace esimguard::asn1 {

using codec2::fail;

namespace {

constexpr std::uint64_t uint64_max = std::numeric_limits<std::uint64_t>::max();

result<der_certificate> certificate(reader& r, std::string_view field) {
    ESIMGUARD_M2_TRY(t, r.expect(codec2::tag_sequence, field));
    return to_bytes(t.raw);
}

result<other_signed_notification> other_signed_body(reader r) {
    other_signed_notification n;
    ESIMGUARD_M2_TRY(tbs, r.expect(0xBF2F, "tbsOtherNotification"));
    ESIMGUARD_M2_TRY(tbs_v, detail2::notification_metadata_of(r, tbs));
    n.tbs_other_notification = std::move(tbs_v);
    n.tbs_raw = to_bytes(tbs.raw);
    ESIMGUARD_M2_TRY(sig, r.expect(codec2::tag_signature, "euiccNotificationSignature"));
    ESIMGUARD_M2_TRY(sig_v, codec2::fixed<64>(sig, "euiccNotificationSignature"));
    n.euicc_notification_signature = sig_v;
    ESIMGUARD_M2_TRY(euicc, certificate(r, "euiccCertificate"));
    n.euicc_certificate = std::move(euicc);
    ESIMGUARD_M2_TRY(eum, certificate(r, "eumCertificate"));
    n.eum_certificate = std::move(eum);
    ESIMGUARD_M2_TRY(ext, codec2::extensions(r, {0xBF2F}, "otherSignedNotification"));
    n.extensions = std::move(ext);
    return n;
}

void put_other(writer& w, const other_signed_notification& n) {
    w.begin(codec2::tag_sequence);
    detail2::put(w, n.tbs_other_notification);
    w.add(codec2::tag_signature, n.euicc_notification_signature);
    w.add_raw(n.euicc_certificate);
    w.add_raw(n.eum_certificate);
    codec2::put_extensions(w, n.extensions);
    w.end();
}

result<pending_notification> pending_of(const reader& parent, const tlv& t) {
    if (t.tag == 0xBF37) {
        ESIMGUARD_M2_TRY(p, detail2::profile_installation_result_of(parent, t));
        return pending_notification{std::move(p)};
    }
    if (t.tag == codec2::tag_sequence) {
        ESIMGUARD_M2_TRY(r, codec2::enter(parent, t, "otherSignedNotification"));
        ESIMGUARD_M2_TRY(n, other_signed_body(r));
        return pending_notification{std::move(n)};
    }
    return fail(errc::unexpected_tag, t, "pendingNotification");
}

void put_pending(writer& w, const pending_notification& p) {
    if (const auto* pir = std::get_if<profile_installation_result>(&p)) {
        detail2::put(w, *pir);
    } else {
        put_other(w, std::get<other_signed_notification>(p));
    }
}

// The error alternative of a CHOICE response: [1] INTEGER.
template <typename E>
result<E> error_code(const tlv& t, std::string_view field) {
    ESIMGUARD_M2_TRY(v, codec2::uint_max(t, 0xff, field));
    return static_cast<E>(v);
}

} // namespace

result<list_notification_request> decode_list_notification_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF28, "listNotificationRequest"));
    list_notification_request m;
    ESIMGUARD_M2_TRY(op, o.r.next_if(0x81));
    if (op.tag != 0) {
        ESIMGUARD_M2_TRY(bits, codec2::bits(op, "profileManagementOperation"));
        m.profile_management_operation = std::move(bits);
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0x81}, "listNotificationRequest"));
    m.extensions = std::move(ext);
    return m;
}

bytes encode(const list_notification_request& m) {
    writer w;
    w.begin(0xBF28);
    if (m.profile_management_operation) {
        codec2::put_bits(w, 0x81, *m.profile_management_operation);
    }
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<list_notification_response> decode_list_notification_response(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF28, "listNotificationResponse"));
    ESIMGUARD_M2_TRY(choice, o.r.next());
    ESIMGUARD_M2_CHECK(o.r.finish());
    list_notification_response m;
    if (choice.tag == 0xA0) {
        ESIMGUARD_M2_TRY(lr, codec2::enter(o.r, choice, "notificationMetadataList"));
        std::vector<notification_metadata> list;
        while (!lr.at_end()) {
            ESIMGUARD_M2_TRY(item, lr.expect(0xBF2F, "notificationMetadata"));
            ESIMGUARD_M2_TRY(nm, detail2::notification_metadata_of(lr, item));
            list.push_back(std::move(nm));
        }
        m.result = std::move(list);
    } else if (choice.tag == 0x81) {
        ESIMGUARD_M2_TRY(
            e, error_code<list_notification_error>(choice, "listNotificationsResultError"));
        m.result = e;
    } else {
        return fail(errc::unexpected_tag, choice, "listNotificationResponse");
    }
    return m;
}

bytes encode(const list_notification_response& m) {
    writer w;
    w.begin(0xBF28);
    if (const auto* list = std::get_if<std::vector<notification_metadata>>(&m.result)) {
        w.begin(0xA0);
        for (const auto& nm : *list) {
            detail2::put(w, nm);
        }
        w.end();
    } else {
        w.add_uint(0x81, static_cast<std::uint64_t>(std::get<list_notification_error>(m.result)));
    }
    w.end();
    return std::move(w).finish();
}

result<retrieve_notifications_list_request>
decode_retrieve_notifications_list_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF2B, "retrieveNotificationsListRequest"));
    retrieve_notifications_list_request m;
    ESIMGUARD_M2_TRY(sc, o.r.next_if(0xA0));
    if (sc.tag != 0) {
        ESIMGUARD_M2_TRY(sr, codec2::enter(o.r, sc, "searchCriteria"));
        ESIMGUARD_M2_TRY(choice, sr.next());
        ESIMGUARD_M2_CHECK(sr.finish());
        if (choice.tag == 0x80) {
            ESIMGUARD_M2_TRY(seq, codec2::uint_max(choice, uint64_max, "seqNumber"));
            m.search_criteria = by_seq_number{seq};
        } else if (choice.tag == 0x81) {
            ESIMGUARD_M2_TRY(bits, codec2::bits(choice, "profileManagementOperation"));
            m.search_criteria = by_operation{std::move(bits)};
        } else {
            return fail(errc::unexpected_tag, choice, "searchCriteria");
        }
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0xA0}, "retrieveNotificationsListRequest"));
    m.extensions = std::move(ext);
    return m;
}

bytes encode(const retrieve_notifications_list_request& m) {
    writer w;
    w.begin(0xBF2B);
    if (m.search_criteria) {
        w.begin(0xA0);
        if (const auto* s = std::get_if<by_seq_number>(&*m.search_criteria)) {
            w.add_uint(0x80, s->seq_number);
        } else {
            codec2::put_bits(
                w, 0x81, std::get<by_operation>(*m.search_criteria).profile_management_operation);
        }
        w.end();
    }
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<retrieve_notifications_list_response>
decode_retrieve_notifications_list_response(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF2B, "retrieveNotificationsListResponse"));
    ESIMGUARD_M2_TRY(choice, o.r.next());
    ESIMGUARD_M2_CHECK(o.r.finish());
    retrieve_notifications_list_response m;
    if (choice.tag == 0xA0) {
        ESIMGUARD_M2_TRY(lr, codec2::enter(o.r, choice, "notificationList"));
        std::vector<pending_notification> list;
        while (!lr.at_end()) {
            ESIMGUARD_M2_TRY(item, lr.next());
            ESIMGUARD_M2_TRY(p, pending_of(lr, item));
            list.push_back(std::move(p));
        }
        m.result = std::move(list);
    } else if (choice.tag == 0x81) {
        ESIMGUARD_M2_TRY(
            e, error_code<retrieve_notifications_error>(choice, "notificationsListResultError"));
        m.result = e;
    } else {
        return fail(errc::unexpected_tag, choice, "retrieveNotificationsListResponse");
    }
    return m;
}

bytes encode(const retrieve_notifications_list_response& m) {
    writer w;
    w.begin(0xBF2B);
    if (const auto* list = std::get_if<std::vector<pending_notification>>(&m.result)) {
        w.begin(0xA0);
        for (const auto& p : *list) {
            put_pending(w, p);
        }
        w.end();
    } else {
        w.add_uint(0x81,
                   static_cast<std::uint64_t>(std::get<retrieve_notifications_error>(m.result)));
    }
    w.end();
    return std::move(w).finish();
}

result<remove_notification_from_list_request>
decode_remove_notification_from_list_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF30, "notificationSentRequest"));
    remove_notification_from_list_request m;
    ESIMGUARD_M2_TRY(seq, o.r.expect(0x80, "seqNumber"));
    ESIMGUARD_M2_TRY(seq_v, codec2::uint_max(seq, uint64_max, "seqNumber"));
    m.seq_number = seq_v;
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0x80}, "notificationSentRequest"));
    m.extensions = std::move(ext);
    return m;
}

bytes encode(const remove_notification_from_list_request& m) {
    writer w;
    w.begin(0xBF30);
    w.add_uint(0x80, m.seq_number);
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<remove_notification_from_list_response>
decode_remove_notification_from_list_response(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF30, "notificationSentResponse"));
    remove_notification_from_list_response m;
    ESIMGUARD_M2_TRY(st, o.r.expect(0x80, "deleteNotificationStatus"));
    ESIMGUARD_M2_TRY(st_v, error_code<delete_notification_status>(st, "deleteNotificationStatus"));
    m.status = st_v;
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0x80}, "notificationSentResponse"));
    m.extensions = std::move(ext);
    return m;
}

bytes encode(const remove_notification_from_list_response& m) {
    writer w;
    w.begin(0xBF30);
    w.add_uint(0x80, static_cast<std::uint64_t>(m.status));
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<other_signed_notification> decode_other_signed_notification(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, codec2::tag_sequence, "otherSignedNotification"));
    return other_signed_body(o.r);
}

bytes encode(const other_signed_notification& m) {
    writer w;
    put_other(w, m);
    return std::move(w).finish();
}

result<pending_notification> decode_pending_notification(byte_view der) {
    ESIMGUARD_M2_TRY(t, decode_single(der));
    return pending_of(reader(der), t);
}

bytes encode(const pending_notification& m) {
    writer w;
    put_pending(w, m);
    return std::move(w).finish();
}

} // namespace esimguard::asn1
