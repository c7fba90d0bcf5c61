#include "esimguard/rsp/status.hpp"

#include <gtest/gtest.h>

using namespace esimguard::rsp;

TEST(status, named_codes_carry_the_protocol_notes_subject_and_reason) {
    struct row {
        status_code code;
        const char* subject;
        const char* reason;
    };
    const row rows[] = {
        {codes::euicc_signature_invalid, "8.1", "6.1"},
        {codes::eid_refused, "8.1.1", "3.8"},
        {codes::eum_certificate_invalid, "8.1.2", "6.1"},
        {codes::eum_certificate_expired, "8.1.2", "6.3"},
        {codes::euicc_certificate_invalid, "8.1.3", "6.1"},
        {codes::euicc_certificate_expired, "8.1.3", "6.3"},
        {codes::profile_not_released, "8.2", "1.2"},
        {codes::matching_id_refused, "8.2.6", "3.8"},
        {codes::matching_id_conflict, "8.2.6", "3.3"},
        {codes::confirmation_code_missing, "8.2.7", "2.2"},
        {codes::confirmation_code_refused, "8.2.7", "3.8"},
        {codes::confirmation_code_retries_exceeded, "8.2.7", "6.4"},
        {codes::smdp_address_mismatch, "8.8.1", "3.8"},
        {codes::security_configuration_unsupported, "8.8.2", "3.1"},
        {codes::svn_unsupported, "8.8.3", "3.1"},
        {codes::smdp_certificate_unavailable, "8.8.4", "3.7"},
        {codes::download_order_expired, "8.8.5", "4.10"},
        {codes::download_retries_exceeded, "8.8.5", "6.4"},
        {codes::transaction_id_unknown, "8.10.1", "3.9"},
        {codes::ci_public_key_unknown, "8.11.1", "3.9"},
        {codes::content_type_invalid, "1.2.1", "2.1"},
        {codes::admin_protocol_unsupported, "1.2.2", "2.1"},
        {codes::mandatory_element_missing, "1.3.1", "2.2"},
        {codes::iccid_unknown, "8.2.1", "3.9"},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(r.code.subject, r.subject);
        EXPECT_EQ(r.code.reason, r.reason);
        EXPECT_FALSE(r.code.default_message.empty()) << r.subject << "/" << r.reason;
    }
}

TEST(status, with_detail_keeps_the_code_and_appends_to_the_default_message) {
    const status s = status::with_detail(codes::mandatory_element_missing, "euiccInfo1");
    EXPECT_TRUE(s.is(codes::mandatory_element_missing));
    EXPECT_FALSE(s.is(codes::invalid_format));
    EXPECT_EQ(s.message, "A mandatory element is missing: euiccInfo1");
    EXPECT_EQ(to_string(s), "1.3.1/2.2 A mandatory element is missing: euiccInfo1");
}
