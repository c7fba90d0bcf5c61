#pragma once
/// A hand-written SM-DP+ behind lpa::es9p_client for LPA tests: records every
/// call (function, address, typed request) in order and answers with what the
/// test put in its `*_answer` members.

#include "esimguard/lpa/es9p_client.hpp"

#include <string>
#include <vector>

namespace esimguard::fakes {

class fake_es9p_server final : public lpa::es9p_client {
public:
    /// One call as the server saw it.
    struct call {
        std::string function; ///< ES9+ function name, e.g. "authenticateClient"
        std::string address;  ///< the SM-DP+ address the LPA used
    };

    lpa::es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view address,
                            const rsp::initiate_authentication_request& request) override {
        calls.push_back({"initiateAuthentication", std::string(address)});
        initiate_authentication_requests.push_back(request);
        return initiate_authentication_answer;
    }

    lpa::es9p_result<rsp::authenticate_client_response>
    authenticate_client(std::string_view address,
                        const rsp::authenticate_client_request& request) override {
        calls.push_back({"authenticateClient", std::string(address)});
        authenticate_client_requests.push_back(request);
        return authenticate_client_answer;
    }

    lpa::es9p_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(std::string_view address,
                              const rsp::get_bound_profile_package_request& request) override {
        calls.push_back({"getBoundProfilePackage", std::string(address)});
        get_bound_profile_package_requests.push_back(request);
        return get_bound_profile_package_answer;
    }

    lpa::es9p_result<void>
    handle_notification(std::string_view address,
                        const rsp::handle_notification_request& request) override {
        calls.push_back({"handleNotification", std::string(address)});
        handle_notification_requests.push_back(request);
        if (refuse_notifications_to == address) {
            return std::unexpected(lpa::es9p_error{.what = lpa::es9p_error::kind::transport,
                                                   .detail = "HTTP 503",
                                                   .status = std::nullopt});
        }
        return handle_notification_answer;
    }

    lpa::es9p_result<void> cancel_session(std::string_view address,
                                          const rsp::cancel_session_request& request) override {
        calls.push_back({"cancelSession", std::string(address)});
        cancel_session_requests.push_back(request);
        return cancel_session_answer;
    }

    /// The function names called, in order.
    std::vector<std::string> functions() const {
        std::vector<std::string> out;
        for (const auto& c : calls) {
            out.push_back(c.function);
        }
        return out;
    }

    /// A refusal as an SM-DP+ reports it (HTTP 200, status Failed).
    static lpa::es9p_error refusal(std::string subject, std::string reason, std::string message) {
        return lpa::es9p_error{
            .what = lpa::es9p_error::kind::refused,
            .detail = subject + "/" + reason,
            .status = rsp::status(std::move(subject), std::move(reason), std::move(message))};
    }

    std::vector<call> calls;
    std::vector<rsp::initiate_authentication_request> initiate_authentication_requests;
    std::vector<rsp::authenticate_client_request> authenticate_client_requests;
    std::vector<rsp::get_bound_profile_package_request> get_bound_profile_package_requests;
    std::vector<rsp::handle_notification_request> handle_notification_requests;
    std::vector<rsp::cancel_session_request> cancel_session_requests;

    lpa::es9p_result<rsp::initiate_authentication_response> initiate_authentication_answer;
    lpa::es9p_result<rsp::authenticate_client_response> authenticate_client_answer;
    lpa::es9p_result<rsp::get_bound_profile_package_response> get_bound_profile_package_answer;
    lpa::es9p_result<void> handle_notification_answer;
    lpa::es9p_result<void> cancel_session_answer;
    /// handleNotification to this address fails as an unreachable server would.
    std::string refuse_notifications_to;
};

} // namespace esimguard::fakes
