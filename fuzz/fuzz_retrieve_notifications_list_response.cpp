// Fuzz target: decode_retrieve_notifications_list_response (RetrieveNotificationsListResponse BF2B,
// SGP.22 §5.7.10) on untrusted bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/notifications.hpp"
#include "fuzz_messages2.hpp"

ESIMGUARD_FUZZ_EXACT2(esimguard::asn1::decode_retrieve_notifications_list_response)
