#pragma once
// TLS settings shared by the server and the client: the protocol floor, the
// cipher policy, and loading trust anchors from PEM/DER into a context.

#include "esimguard/http/message.hpp"

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace esimguard::http::detail {

/// The queued OpenSSL errors as one line (and clears the queue).
std::string openssl_errors();

/// TLS 1.2 and 1.3 only; for 1.2 forward-secret AEAD/ECDHE suites only
/// (SGP.22 §2.6.6 names TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 and
/// ..._AES_128_CBC_SHA256); no renegotiation, no compression.
result<void> apply_protocol_policy(boost::asio::ssl::context& ctx);

/// Adds every certificate of a PEM text to the context's trust store.
result<void> add_trusted_pem(boost::asio::ssl::context& ctx, std::string_view pem);
/// Adds one DER certificate to the context's trust store.
result<void> add_trusted_der(boost::asio::ssl::context& ctx, byte_view der);
/// Adds a file's certificates, PEM or DER (told apart by content).
result<void> add_trusted_file(boost::asio::ssl::context& ctx, const std::filesystem::path& file);

/// Loads a PEM certificate chain (leaf first) and its key, and checks that
/// they belong together.
result<void> use_chain_and_key(boost::asio::ssl::context& ctx, const std::filesystem::path& chain,
                               const std::filesystem::path& key);

} // namespace esimguard::http::detail
