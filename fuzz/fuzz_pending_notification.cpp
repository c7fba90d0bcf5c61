// Fuzz target: decode_pending_notification (PendingNotification BF37 or 30, SGP.22 §5.6.4) on
// untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/notifications.hpp"
#include "fuzz_messages2.hpp"

ESIMGUARD_FUZZ_EXACT2(esimguard::asn1::decode_pending_notification)
