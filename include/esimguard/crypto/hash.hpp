#pragma once
/// Message digests, and the SGP.22 confirmation-code hash.

#include "esimguard/core/bytes.hpp"

#include <string_view>

namespace esimguard::crypto {

/// SHA-256 of `data`, 32 bytes.
bytes sha256(byte_view data);

/// SHA-1 of `data`, 20 bytes. Only for key identifiers (RFC 5280 §4.2.1.2), never
/// for signatures.
bytes sha1(byte_view data);

/// hashCc of SGP.22 §3.1.3.1 / §5.6.2: SHA-256(SHA-256(code as ASCII) ‖ transactionId),
/// 32 bytes. `transaction_id` is the binary TransactionId, not its hex string.
/// Compare the result with constant_time_equal (mac.hpp).
bytes confirmation_code_hash(std::string_view code, byte_view transaction_id);

} // namespace esimguard::crypto
