// Fuzz target: decode_store_metadata_request (StoreMetadataRequest BF25, SGP.22 §5.5.3) on
// untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/metadata.hpp"
#include "fuzz_messages2.hpp"

ESIMGUARD_FUZZ_EXACT2(esimguard::asn1::decode_store_metadata_request)
