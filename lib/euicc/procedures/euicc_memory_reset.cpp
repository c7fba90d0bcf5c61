// ES10c.eUICCMemoryReset (SGP.22 §5.7.19): resetOptions bits
// deleteOperationalProfiles(0), deleteFieldLoadedTestProfiles(1),
// resetDefaultSmdpAddress(2). No notifications are generated for a reset.

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes euicc_memory_reset(context& ctx, byte_view request) {
    asn1::euicc_memory_reset_response r;
    auto req = asn1::decode_euicc_memory_reset_request(request);
    if (!req) {
        r.result = asn1::euicc_memory_reset_result::undefined_error;
        return asn1::encode(r);
    }
    const bool operational = req->reset_options.test(0);
    const bool test = req->reset_options.test(1);
    const bool address = req->reset_options.test(2);
    bool did = false;
    std::erase_if(ctx.state.profiles, [&](const installed_profile& p) {
        auto md = stored_metadata(p);
        const auto k = md ? md->klass.value_or(asn1::profile_class::operational)
                          : asn1::profile_class::operational;
        const bool del = (operational && k == asn1::profile_class::operational) ||
                         (test && k == asn1::profile_class::test);
        did = did || del;
        return del;
    });
    if (address && ctx.state.default_dp_address) {
        ctx.state.default_dp_address.reset();
        did = true;
    }
    if (!did) {
        r.result = asn1::euicc_memory_reset_result::nothing_to_delete;
        return asn1::encode(r);
    }
    ctx.save();
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
