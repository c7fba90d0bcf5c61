// Fuzz target: decode_profile_installation_result (ProfileInstallationResult BF37, SGP.22 §5.5.4)
// on untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/install_result.hpp"
#include "fuzz_messages2.hpp"

ESIMGUARD_FUZZ_EXACT2(esimguard::asn1::decode_profile_installation_result)
