// Fuzz target: decode_euicc_info1 (EUICCInfo1, SGP.22 §5.7.8) on untrusted bytes, with an exact
// decode/encode round trip.
#include "esimguard/asn1/euicc_info.hpp"
#include "fuzz_rsp_message.hpp"

ESIMGUARD_FUZZ_EXACT_ROUNDTRIP(esimguard::asn1::decode_euicc_info1, esimguard::asn1::encode)
