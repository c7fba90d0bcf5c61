// ES10b.GetEUICCChallenge (SGP.22 §5.7.7): a fresh 16-byte challenge that
// starts a new RSP session; any earlier session is abandoned.

#include "context.hpp"

#include "esimguard/asn1/euicc_info.hpp"

#include <algorithm>

namespace esimguard::euicc::detail {

bytes get_euicc_challenge(context& ctx, byte_view request) {
    asn1::get_euicc_challenge_response r;
    // The request has no error response: an undecodable one still gets a
    // challenge, as a card would answer the tag alone.
    (void)asn1::decode_empty_request(request, asn1::tag_get_euicc_challenge);
    ctx.end_session();
    auto rnd = ctx.random->generate(r.euicc_challenge.size());
    if (!rnd || rnd->size() != r.euicc_challenge.size()) {
        return {};
    }
    std::copy(rnd->begin(), rnd->end(), r.euicc_challenge.begin());
    ctx.session.euicc_challenge = r.euicc_challenge;
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
