// A real (or vpcd-virtual) reader through pcsc-lite, as lpac's PC/SC driver
// reaches an eUICC in a USB reader.

#include "channel_ops.hpp"
#include "logger.hpp"

#include "esimguard/apdu/transports.hpp"

#include <fmt/core.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

namespace esimguard::apdu {

namespace {

transport_error pcsc_error(std::string_view what, LONG rc) {
    return transport_error{transport_error::code::io,
                           fmt::format("{}: {}", what, pcsc_stringify_error(rc))};
}

/// Reader names from SCardListReaders' multi-string.
transport_result<std::vector<std::string>> readers_of(SCARDCONTEXT ctx) {
    DWORD size = 0;
    LONG rc = SCardListReaders(ctx, nullptr, nullptr, &size);
    if (rc == static_cast<LONG>(SCARD_E_NO_READERS_AVAILABLE)) {
        return std::vector<std::string>{};
    }
    if (rc != SCARD_S_SUCCESS) {
        return std::unexpected(pcsc_error("SCardListReaders", rc));
    }
    std::string multi(size, '\0');
    rc = SCardListReaders(ctx, nullptr, multi.data(), &size);
    if (rc == static_cast<LONG>(SCARD_E_NO_READERS_AVAILABLE)) {
        return std::vector<std::string>{};
    }
    if (rc != SCARD_S_SUCCESS) {
        return std::unexpected(pcsc_error("SCardListReaders", rc));
    }
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < multi.size() && multi[pos] != '\0') {
        const std::size_t end = multi.find('\0', pos);
        out.push_back(multi.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

class pcsc_transport_impl final : public transport {
public:
    explicit pcsc_transport_impl(pcsc_options options) : options_(std::move(options)) {}
    ~pcsc_transport_impl() override { disconnect(); }

    transport_result<void> connect() override {
        disconnect();
        LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &context_);
        if (rc != SCARD_S_SUCCESS) {
            return std::unexpected(pcsc_error("SCardEstablishContext (is pcscd running?)", rc));
        }
        has_context_ = true;
        auto names = readers_of(context_);
        if (!names) {
            disconnect();
            return std::unexpected(names.error());
        }
        const std::string* chosen = nullptr;
        for (const auto& n : *names) {
            if (options_.reader.empty() || n.find(options_.reader) != std::string::npos) {
                chosen = &n;
                break;
            }
        }
        if (!chosen) {
            std::string list;
            for (const auto& n : *names) {
                list += (list.empty() ? "" : ", ") + ("\"" + n + "\"");
            }
            disconnect();
            return std::unexpected(
                transport_error{transport_error::code::io,
                                fmt::format("no PC/SC reader matching \"{}\" (readers: {})",
                                            options_.reader, list.empty() ? "none" : list)});
        }
        DWORD protocol = 0;
        rc = SCardConnect(context_, chosen->c_str(), SCARD_SHARE_SHARED,
                          SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card_, &protocol);
        if (rc != SCARD_S_SUCCESS) {
            const std::string name = *chosen;
            disconnect();
            return std::unexpected(pcsc_error(fmt::format("SCardConnect \"{}\"", name), rc));
        }
        has_card_ = true;
        protocol_ = protocol;
        detail::apdu_logger()->info("PC/SC: connected to \"{}\" with T={}", *chosen,
                                    protocol == SCARD_PROTOCOL_T1 ? 1 : 0);
        return {};
    }

    void disconnect() override {
        if (has_card_) {
            SCardDisconnect(card_, SCARD_LEAVE_CARD);
            has_card_ = false;
        }
        if (has_context_) {
            SCardReleaseContext(context_);
            has_context_ = false;
        }
    }

    transport_result<int> open_logical_channel(byte_view aid) override {
        if (!has_card_) {
            return not_connected();
        }
        return detail::open_channel(raw(), aid);
    }

    void close_logical_channel(int channel) override {
        if (has_card_) {
            detail::close_channel(raw(), channel);
        }
    }

    transport_result<bytes> transmit(byte_view command) override {
        if (!has_card_) {
            return not_connected();
        }
        // Extended APDUs are not used by ES10; a short response is at most
        // 256 data bytes plus the status word.
        bytes response(258);
        DWORD length = static_cast<DWORD>(response.size());
        const SCARD_IO_REQUEST* pci = protocol_ == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
        const LONG rc =
            SCardTransmit(card_, pci, command.data(), static_cast<DWORD>(command.size()), nullptr,
                          response.data(), &length);
        if (rc != SCARD_S_SUCCESS) {
            return std::unexpected(pcsc_error("SCardTransmit", rc));
        }
        response.resize(length);
        return response;
    }

private:
    static std::unexpected<transport_error> not_connected() {
        return std::unexpected(
            transport_error{transport_error::code::not_connected, "no PC/SC card connected"});
    }

    detail::raw_transmit raw() {
        return [this](byte_view c) { return transmit(c); };
    }

    pcsc_options options_;
    SCARDCONTEXT context_ = 0;
    SCARDHANDLE card_ = 0;
    DWORD protocol_ = 0;
    bool has_context_ = false;
    bool has_card_ = false;
};

} // namespace

std::unique_ptr<transport> create_pcsc_transport(pcsc_options options) {
    return std::make_unique<pcsc_transport_impl>(std::move(options));
}

transport_result<std::vector<std::string>> list_pcsc_readers() {
    SCARDCONTEXT ctx = 0;
    LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &ctx);
    if (rc != SCARD_S_SUCCESS) {
        return std::unexpected(pcsc_error("SCardEstablishContext (is pcscd running?)", rc));
    }
    auto names = readers_of(ctx);
    SCardReleaseContext(ctx);
    return names;
}

} // namespace esimguard::apdu
