// ES10b.GetEUICCInfo (SGP.22 §5.7.8): EUICCInfo1 (BF20) for ES9+
// InitiateAuthentication, EUICCInfo2 (BF22) for the SM-DP+'s checks.

#include "context.hpp"

#include "esimguard/asn1/euicc_info.hpp"

namespace esimguard::euicc::detail {

bytes get_euicc_info1(context& ctx, byte_view /*request*/) {
    return asn1::encode(ctx.info1());
}

bytes get_euicc_info2(context& ctx, byte_view /*request*/) {
    return asn1::encode(ctx.info2());
}

} // namespace esimguard::euicc::detail
