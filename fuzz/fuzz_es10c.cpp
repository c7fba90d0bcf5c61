// Fuzz target for the small ES10b/ES10c and BPP-command decoders (SGP.22 §5.7, §5.5):
// the first input byte picks the decoder, the rest is the message; each runs
// an exact decode/encode round trip.
#include "esimguard/asn1/bpp.hpp"
#include "esimguard/asn1/notifications.hpp"
#include "esimguard/asn1/profile_management.hpp"
#include "fuzz_messages2.hpp"

namespace {

using namespace esimguard;

template <typename Decode>
void run(byte_view in, Decode&& decode) {
    fuzz::exact_roundtrip(in, decode, [](const auto& value) { return asn1::encode(value); });
}

#define ESIMGUARD_FUZZ_CASE(n, fn)                                                                 \
    case n:                                                                                        \
        run(in, [](byte_view b) { return asn1::fn(b); });                                          \
        break;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const byte_view in(data + 1, size - 1);
    switch (data[0] % 27) {
        ESIMGUARD_FUZZ_CASE(0, decode_profile_info)
        ESIMGUARD_FUZZ_CASE(1, decode_profile_info_list_request)
        ESIMGUARD_FUZZ_CASE(2, decode_enable_profile_request)
        ESIMGUARD_FUZZ_CASE(3, decode_enable_profile_response)
        ESIMGUARD_FUZZ_CASE(4, decode_disable_profile_request)
        ESIMGUARD_FUZZ_CASE(5, decode_disable_profile_response)
        ESIMGUARD_FUZZ_CASE(6, decode_delete_profile_request)
        ESIMGUARD_FUZZ_CASE(7, decode_delete_profile_response)
        ESIMGUARD_FUZZ_CASE(8, decode_euicc_memory_reset_request)
        ESIMGUARD_FUZZ_CASE(9, decode_euicc_memory_reset_response)
        ESIMGUARD_FUZZ_CASE(10, decode_get_eid_request)
        ESIMGUARD_FUZZ_CASE(11, decode_get_eid_response)
        ESIMGUARD_FUZZ_CASE(12, decode_set_nickname_request)
        ESIMGUARD_FUZZ_CASE(13, decode_set_nickname_response)
        ESIMGUARD_FUZZ_CASE(14, decode_euicc_configured_addresses_request)
        ESIMGUARD_FUZZ_CASE(15, decode_euicc_configured_addresses_response)
        ESIMGUARD_FUZZ_CASE(16, decode_set_default_dp_address_request)
        ESIMGUARD_FUZZ_CASE(17, decode_set_default_dp_address_response)
        ESIMGUARD_FUZZ_CASE(18, decode_get_rat_request)
        ESIMGUARD_FUZZ_CASE(19, decode_get_rat_response)
        ESIMGUARD_FUZZ_CASE(20, decode_list_notification_request)
        ESIMGUARD_FUZZ_CASE(21, decode_retrieve_notifications_list_request)
        ESIMGUARD_FUZZ_CASE(22, decode_remove_notification_from_list_request)
        ESIMGUARD_FUZZ_CASE(23, decode_remove_notification_from_list_response)
        ESIMGUARD_FUZZ_CASE(24, decode_configure_isdp_request)
        ESIMGUARD_FUZZ_CASE(25, decode_replace_session_keys_request)
        ESIMGUARD_FUZZ_CASE(26, decode_other_signed_notification)
    default:
        break;
    }
    return 0;
}
