#include "esimguard/asn1/notifications.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::asn1;

namespace {

bytes h(std::string_view hex) {
    return *from_hex(hex);
}

notification_metadata metadata(std::uint64_t seq, std::size_t event) {
    notification_metadata m;
    m.seq_number = seq;
    m.profile_management_operation = bit_string::from_bits({event});
    m.notification_address = "smdp.example.com";
    m.iccid = *iccid_value::parse("89014103211118510720");
    return m;
}

other_signed_notification other_notification() {
    other_signed_notification n;
    n.tbs_other_notification = metadata(7, notification_enable);
    n.euicc_notification_signature.fill(0x42);
    n.euicc_certificate = h("3003020101");
    n.eum_certificate = h("3003020102");
    return n;
}

profile_installation_result pir() {
    profile_installation_result p;
    p.data.transaction_id = h("a1a2a3a4");
    p.data.notification = metadata(6, notification_install);
    p.data.final_result = install_success_result{h("a0000005591010ffffffff8900001000"), h(""), {}};
    p.euicc_sign_pir.fill(0x24);
    return p;
}

TEST(notifications_codec, when_list_notification_request_has_a_filter_then_it_is_81_bits) {
    list_notification_request m;
    m.profile_management_operation = bit_string::from_bits({notification_delete});
    EXPECT_EQ(encode(m), h("bf280481020410"));
    auto back = decode_list_notification_request(h("bf280481020410"));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
    EXPECT_TRUE(decode_list_notification_request(h("bf2800")));
}

TEST(notifications_codec, when_list_notification_response_round_trips_then_the_list_is_kept) {
    list_notification_response m;
    m.result = std::vector<notification_metadata>{metadata(1, notification_install),
                                                  metadata(2, notification_disable)};
    const bytes der = encode(m);
    EXPECT_EQ(der[3], 0xA0);
    auto back = decode_list_notification_response(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(notifications_codec, when_list_notification_fails_then_the_error_is_81_127) {
    list_notification_response m{list_notification_error::undefined_error};
    EXPECT_EQ(encode(m), h("bf280381017f"));
    auto back = decode_list_notification_response(h("bf280381017f"));
    ASSERT_TRUE(back);
    EXPECT_EQ(std::get<list_notification_error>(back->result),
              list_notification_error::undefined_error);
}

TEST(notifications_codec, when_retrieve_by_seq_number_is_encoded_then_it_is_a0_80) {
    retrieve_notifications_list_request m;
    m.search_criteria = by_seq_number{5};
    EXPECT_EQ(encode(m), h("bf2b05a003800105"));
    auto back = decode_retrieve_notifications_list_request(h("bf2b05a003800105"));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(notifications_codec, when_retrieve_by_operation_round_trips_then_the_bits_are_kept) {
    retrieve_notifications_list_request m;
    m.search_criteria = by_operation{bit_string::from_bits({notification_install})};
    auto back = decode_retrieve_notifications_list_request(encode(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(notifications_codec, when_retrieve_response_holds_both_kinds_then_they_round_trip) {
    retrieve_notifications_list_response m;
    m.result = std::vector<pending_notification>{pir(), other_notification()};
    const bytes der = encode(m);
    auto back = decode_retrieve_notifications_list_response(der);
    ASSERT_TRUE(back) << to_string(back.error().code) << " " << back.error().field;
    EXPECT_EQ(*back, m);
    EXPECT_EQ(encode(*back), der);
}

TEST(notifications_codec, when_retrieve_response_is_an_error_then_the_code_is_kept) {
    auto back = decode_retrieve_notifications_list_response(h("bf2b03810101"));
    ASSERT_TRUE(back);
    EXPECT_EQ(std::get<retrieve_notifications_error>(back->result),
              retrieve_notifications_error::no_result_available);
}

TEST(notifications_codec, when_remove_notification_is_encoded_then_it_is_bf30_80) {
    EXPECT_EQ(encode(remove_notification_from_list_request{5, {}}), h("bf3003800105"));
    auto req = decode_remove_notification_from_list_request(h("bf3003800105"));
    ASSERT_TRUE(req);
    EXPECT_EQ(req->seq_number, 5u);
    auto resp = decode_remove_notification_from_list_response(h("bf3003800101"));
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->status, delete_notification_status::nothing_to_delete);
    EXPECT_EQ(encode(*resp), h("bf3003800101"));
}

TEST(notifications_codec, when_remove_notification_lacks_seq_number_then_it_is_refused) {
    auto req = decode_remove_notification_from_list_request(h("bf3000"));
    ASSERT_FALSE(req);
    EXPECT_EQ(req.error().code, errc::missing_field);
}

TEST(notifications_codec, when_an_other_signed_notification_is_decoded_then_tbs_raw_is_kept) {
    const auto n = other_notification();
    const bytes der = encode(n);
    auto back = decode_other_signed_notification(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, n);
    EXPECT_EQ(back->tbs_raw, encode(n.tbs_other_notification));
    EXPECT_EQ(back->euicc_certificate, h("3003020101"));
}

TEST(notifications_codec, when_the_eum_certificate_is_missing_then_missing_field_is_reported) {
    const auto n = other_notification();
    writer w;
    w.begin(0x30)
        .add_raw(encode(n.tbs_other_notification))
        .add(0x5F37, n.euicc_notification_signature)
        .add_raw(n.euicc_certificate)
        .end();
    auto back = decode_other_signed_notification(std::move(w).finish());
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::missing_field);
    EXPECT_EQ(back.error().field, "eumCertificate");
}

TEST(notifications_codec, when_a_pending_notification_is_bf37_then_it_decodes_as_an_install) {
    auto back = decode_pending_notification(encode(pir()));
    ASSERT_TRUE(back);
    EXPECT_TRUE(std::holds_alternative<profile_installation_result>(*back));
}

TEST(notifications_codec, when_a_pending_notification_is_30_then_it_decodes_as_other_signed) {
    auto back = decode_pending_notification(encode(other_notification()));
    ASSERT_TRUE(back);
    EXPECT_TRUE(std::holds_alternative<other_signed_notification>(*back));
}

TEST(notifications_codec, when_a_pending_notification_has_another_tag_then_it_is_refused) {
    auto back = decode_pending_notification(h("bf2f00"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::unexpected_tag);
}

TEST(notifications_codec, when_a_pending_notification_has_trailing_bytes_then_it_is_refused) {
    bytes der = encode(other_notification());
    der.push_back(0);
    auto back = decode_pending_notification(der);
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::trailing_bytes);
}

} // namespace
