// Fuzz target: decode_initialise_secure_channel_request (InitialiseSecureChannelRequest BF23,
// SGP.22 §5.5.1) on untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/bpp.hpp"
#include "fuzz_messages2.hpp"

ESIMGUARD_FUZZ_EXACT2(esimguard::asn1::decode_initialise_secure_channel_request)
