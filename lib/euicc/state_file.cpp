// The eUICC's non-volatile memory: a JSON file replaced atomically on every
// change, so that a crash leaves either the old or the new state, never half.

#include "context.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace esimguard::euicc::detail {
namespace {

using json = nlohmann::json;

constexpr int state_format_version = 1;

bytes hex_field(const json& j, const char* name) {
    auto v = from_hex(j.at(name).get<std::string>());
    if (!v) {
        throw std::runtime_error(std::string("bad hex in ") + name);
    }
    return *v;
}

bool write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

euicc_result<persistent_state> load_state(const std::filesystem::path& path) {
    persistent_state s;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return s;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::unexpected(
            euicc_error{euicc_error::code::state_io, "cannot read " + path.string()});
    }
    std::stringstream buf;
    buf << in.rdbuf();
    // nlohmann reports bad JSON by exceptions; they stop here.
    try {
        const json j = json::parse(buf.str());
        if (j.at("version").get<int>() != state_format_version) {
            throw std::runtime_error("unknown state format version");
        }
        for (const auto& p : j.at("profiles")) {
            installed_profile ip;
            ip.iccid = p.at("iccid").get<std::string>();
            ip.isdp_aid = hex_field(p, "isdp_aid");
            ip.enabled = p.at("enabled").get<bool>();
            ip.nickname = p.at("nickname").get<std::string>();
            ip.metadata_der = hex_field(p, "metadata");
            ip.dp_oid = hex_field(p, "dp_oid");
            ip.package_sha256 = hex_field(p, "package_sha256");
            ip.package_size = p.at("package_size").get<std::uint64_t>();
            s.profiles.push_back(std::move(ip));
        }
        for (const auto& n : j.at("notifications")) {
            stored_notification sn;
            sn.seq_number = n.at("seq").get<std::uint64_t>();
            sn.pending_der = hex_field(n, "pending");
            sn.metadata_der = hex_field(n, "metadata");
            s.notifications.push_back(std::move(sn));
        }
        s.next_seq_number = j.at("next_seq_number").get<std::uint64_t>();
        if (j.contains("default_dp_address") && !j.at("default_dp_address").is_null()) {
            s.default_dp_address = j.at("default_dp_address").get<std::string>();
        }
    } catch (const std::exception& e) {
        return std::unexpected(
            euicc_error{euicc_error::code::state_corrupt, path.string() + ": " + e.what()});
    }
    return s;
}

bool save_state(const std::filesystem::path& path, const persistent_state& s) {
    json j;
    j["version"] = state_format_version;
    j["profiles"] = json::array();
    for (const auto& p : s.profiles) {
        j["profiles"].push_back({{"iccid", p.iccid},
                                 {"isdp_aid", to_hex(p.isdp_aid)},
                                 {"enabled", p.enabled},
                                 {"nickname", p.nickname},
                                 {"metadata", to_hex(p.metadata_der)},
                                 {"dp_oid", to_hex(p.dp_oid)},
                                 {"package_sha256", to_hex(p.package_sha256)},
                                 {"package_size", p.package_size}});
    }
    j["notifications"] = json::array();
    for (const auto& n : s.notifications) {
        j["notifications"].push_back({{"seq", n.seq_number},
                                      {"pending", to_hex(n.pending_der)},
                                      {"metadata", to_hex(n.metadata_der)}});
    }
    j["next_seq_number"] = s.next_seq_number;
    j["default_dp_address"] = s.default_dp_address ? json(*s.default_dp_address) : json(nullptr);
    const std::string text = j.dump(1) + "\n";

    auto tmp = path;
    tmp += ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        spdlog::error("euicc: cannot write state {}: {}", tmp.string(), std::strerror(errno));
        return false;
    }
    const bool ok = write_all(fd, text) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        spdlog::error("euicc: cannot replace state {}: {}", path.string(), std::strerror(errno));
        ::unlink(tmp.c_str());
        return false;
    }
    // The rename is durable only once the directory entry is.
    auto dir = path.parent_path();
    if (dir.empty()) {
        dir = ".";
    }
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

} // namespace esimguard::euicc::detail
