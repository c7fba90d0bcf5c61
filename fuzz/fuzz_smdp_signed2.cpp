// Fuzz target: decode_smdp_signed2 (SmdpSigned2, SGP.22 §5.7.5) on untrusted bytes, with an exact
// decode/encode round trip.
#include "esimguard/asn1/download.hpp"
#include "fuzz_rsp_message.hpp"

ESIMGUARD_FUZZ_EXACT_ROUNDTRIP(esimguard::asn1::decode_smdp_signed2, esimguard::asn1::encode)
