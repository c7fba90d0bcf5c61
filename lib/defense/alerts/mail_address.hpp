#pragma once
// Address checks shared by message rendering and the mail channel's config.

#include <string_view>

namespace esimguard::defense::alerts_detail {

/// A bare local@domain in printable ASCII, without any character that
/// delimits addresses, comments or quoting in headers and SMTP commands.
bool valid_mail_address(std::string_view a);

} // namespace esimguard::defense::alerts_detail
