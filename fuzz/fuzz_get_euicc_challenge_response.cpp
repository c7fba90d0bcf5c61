// Fuzz target: decode_get_euicc_challenge_response (GetEuiccChallengeResponse, SGP.22 §5.7.7) on
// untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/euicc_info.hpp"
#include "fuzz_rsp_message.hpp"

ESIMGUARD_FUZZ_EXACT_ROUNDTRIP(esimguard::asn1::decode_get_euicc_challenge_response,
                               esimguard::asn1::encode)
