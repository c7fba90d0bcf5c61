// Fuzz target: decode_profile_info_list_response (ProfileInfoListResponse BF2D, SGP.22 §5.7.15) on
// untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/profile_management.hpp"
#include "fuzz_messages2.hpp"

ESIMGUARD_FUZZ_EXACT2(esimguard::asn1::decode_profile_info_list_response)
