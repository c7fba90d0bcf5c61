// Fuzz target: decode_prepare_download_request (PrepareDownloadRequest, SGP.22 §5.7.5) on untrusted
// bytes, with an exact decode/encode round trip.
#include "esimguard/asn1/download.hpp"
#include "fuzz_rsp_message.hpp"

ESIMGUARD_FUZZ_EXACT_ROUNDTRIP(esimguard::asn1::decode_prepare_download_request,
                               esimguard::asn1::encode)
