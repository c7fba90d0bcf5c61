// ES9+ over HTTPS, LPA side (SGP.22 §6.5 HTTP binding, §5.6 functions): the
// transport under the typed es9p_client. Requests are the rsp JSON binding;
// a non-2xx answer is a transport failure, not an SGP.22 status, as every
// LPA treats it.

#include "esimguard/http/client.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "internal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace esimguard::lpa {

namespace {

es9p_error from_response_error(const rsp::response_error& e) {
    if (e.reported_by_peer) {
        return es9p_error{.what = es9p_error::kind::refused,
                          .detail = rsp::to_string(e.detail),
                          .status = e.detail};
    }
    return es9p_error{.what = es9p_error::kind::malformed, .detail = e.detail.message};
}

template <typename T>
es9p_result<T> convert(rsp::response_result<T> r) {
    if (!r) {
        return std::unexpected(from_response_error(r.error()));
    }
    return std::move(*r);
}

class https_es9p_client_impl final : public es9p_client {
public:
    https_es9p_client_impl(http::client c, https_es9p_config config)
        : client_(std::move(c)), config_(std::move(config)) {}

    es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view address,
                            const rsp::initiate_authentication_request& request) override {
        auto body = post(address, "initiateAuthentication", rsp::to_json(request));
        if (!body) {
            return std::unexpected(body.error());
        }
        return convert(rsp::parse_initiate_authentication_response(*body));
    }

    es9p_result<rsp::authenticate_client_response>
    authenticate_client(std::string_view address,
                        const rsp::authenticate_client_request& request) override {
        auto body = post(address, "authenticateClient", rsp::to_json(request));
        if (!body) {
            return std::unexpected(body.error());
        }
        return convert(rsp::parse_authenticate_client_response(*body));
    }

    es9p_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(std::string_view address,
                              const rsp::get_bound_profile_package_request& request) override {
        auto body = post(address, "getBoundProfilePackage", rsp::to_json(request));
        if (!body) {
            return std::unexpected(body.error());
        }
        return convert(rsp::parse_get_bound_profile_package_response(*body));
    }

    es9p_result<void>
    handle_notification(std::string_view address,
                        const rsp::handle_notification_request& request) override {
        // SGP.22 answers 204 with no body; a body, if any, is not read (lpac
        // ignores it too), so that servers answering 200 {} also work.
        auto body = post(address, "handleNotification", rsp::to_json(request));
        if (!body) {
            return std::unexpected(body.error());
        }
        if (!body->empty()) {
            auto header = rsp::parse_header_only_response(*body);
            if (!header && header.error().reported_by_peer) {
                return std::unexpected(from_response_error(header.error()));
            }
        }
        return {};
    }

    es9p_result<void> cancel_session(std::string_view address,
                                     const rsp::cancel_session_request& request) override {
        auto body = post(address, "cancelSession", rsp::to_json(request));
        if (!body) {
            return std::unexpected(body.error());
        }
        if (body->empty()) {
            return {};
        }
        auto header = rsp::parse_header_only_response(*body);
        if (!header) {
            return std::unexpected(from_response_error(header.error()));
        }
        return {};
    }

private:
    /// POSTs one function call; the body of a 2xx answer, else a transport error.
    es9p_result<std::string> post(std::string_view address, std::string_view function,
                                  std::string body) {
        const std::string url =
            fmt::format("https://{}{}{}", address, rsp::es9p_path_prefix, function);
        const http::header_list headers = {
            {"Content-Type", "application/json"},
            {"X-Admin-Protocol", config_.admin_protocol},
            {"User-Agent", config_.user_agent},
            {"Accept", "application/json"},
        };
        detail::logger()->debug("ES9+ {} to {}", function, address);
        auto r = client_.post(url, std::move(body), headers);
        if (!r) {
            return std::unexpected(es9p_error{
                .what = es9p_error::kind::transport,
                .detail = fmt::format("{} ({}{}{})", address, http::to_string(r.error().code),
                                      r.error().detail.empty() ? "" : ": ", r.error().detail)});
        }
        if (r->status < 200 || r->status > 299) {
            return std::unexpected(
                es9p_error{.what = es9p_error::kind::transport,
                           .detail = fmt::format("{} answered HTTP {}", address, r->status)});
        }
        return std::move(r->body);
    }

    http::client client_;
    https_es9p_config config_;
};

} // namespace

es9p_result<std::unique_ptr<es9p_client>> create_https_es9p_client(https_es9p_config config) {
    http::client_config hc;
    hc.trusted_ca_der = config.trusted_ca_der;
    hc.trusted_ca_files = config.trusted_ca_files;
    hc.insecure = config.insecure;
    hc.request_timeout = config.request_timeout;
    hc.connect_timeout = std::min(config.request_timeout, std::chrono::milliseconds{15'000});
    hc.max_response_body_bytes = rsp::max_body_size;
    hc.user_agent = config.user_agent;
    hc.local_address = config.local_address;
    auto c = http::client::create(std::move(hc));
    if (!c) {
        return std::unexpected(
            es9p_error{.what = es9p_error::kind::transport,
                       .detail = fmt::format("cannot set up HTTPS: {}: {}",
                                             http::to_string(c.error().code), c.error().detail)});
    }
    return std::make_unique<https_es9p_client_impl>(std::move(*c), std::move(config));
}

} // namespace esimguard::lpa
