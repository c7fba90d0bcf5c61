// SGP.22 §5.2.6 status codes: string form for logs.

#include "esimguard/rsp/status.hpp"

namespace esimguard::rsp {

std::string to_string(const status& s) {
    std::string out = s.subject_code;
    out += '/';
    out += s.reason_code;
    if (!s.message.empty()) {
        out += ' ';
        out += s.message;
    }
    return out;
}

} // namespace esimguard::rsp
