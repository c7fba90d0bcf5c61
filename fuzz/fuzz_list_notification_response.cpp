// Fuzz target: decode_list_notification_response (ListNotificationResponse BF28, SGP.22 §5.7.9) on
// untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/notifications.hpp"
#include "fuzz_messages2.hpp"

ESIMGUARD_FUZZ_EXACT2(esimguard::asn1::decode_list_notification_response)
