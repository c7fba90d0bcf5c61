// Fuzz target: decode_cancel_session_response (CancelSessionResponse, SGP.22 §5.7.14) on untrusted
// bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/cancel_session.hpp"
#include "fuzz_rsp_message.hpp"

ESIMGUARD_FUZZ_EXACT_ROUNDTRIP(esimguard::asn1::decode_cancel_session_response,
                               esimguard::asn1::encode)
