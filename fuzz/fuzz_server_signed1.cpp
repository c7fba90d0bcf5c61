// Fuzz target: decode_server_signed1 (ServerSigned1, SGP.22 §5.7.13) on untrusted bytes, with an
// exact decode/encode round trip.
#include "esimguard/asn1/authentication.hpp"
#include "fuzz_rsp_message.hpp"

ESIMGUARD_FUZZ_EXACT_ROUNDTRIP(esimguard::asn1::decode_server_signed1, esimguard::asn1::encode)
