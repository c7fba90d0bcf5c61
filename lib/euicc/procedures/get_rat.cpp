// ES10b.GetRAT (SGP.22 §5.7.22): the Rules Authorisation Table. This eUICC
// allows no profile policy rules, so the table is empty.

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes get_rat(context& /*ctx*/, byte_view /*request*/) {
    return asn1::encode(asn1::get_rat_response{});
}

} // namespace esimguard::euicc::detail
