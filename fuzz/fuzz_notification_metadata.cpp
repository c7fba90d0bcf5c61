// Fuzz target: decode_notification_metadata (NotificationMetadata BF2F, SGP.22 §5.7.10) on
// untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/metadata.hpp"
#include "fuzz_messages2.hpp"

ESIMGUARD_FUZZ_EXACT2(esimguard::asn1::decode_notification_metadata)
