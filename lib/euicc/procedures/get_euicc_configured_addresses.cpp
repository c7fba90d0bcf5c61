// ES10a.GetEuiccConfiguredAddresses (SGP.22 §5.7.3): default SM-DP+ and root SM-DS.

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes get_euicc_configured_addresses(context& ctx, byte_view /*request*/) {
    asn1::euicc_configured_addresses_response r;
    if (ctx.state.default_dp_address && !ctx.state.default_dp_address->empty()) {
        r.default_dp_address = ctx.state.default_dp_address;
    }
    r.root_ds_address = ctx.config.info.root_ds_address;
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
