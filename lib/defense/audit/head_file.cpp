// Atomic replacement of the audit head file (temp + fsync + rename + fsync
// of the directory) and its cross-process lock.

#include "audit/head_file.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace esimguard::defense::audit {

namespace {

constexpr std::string_view magic = "esimguard-audit-head v1 ";
// Far larger than any valid file; a bigger one is not ours.
constexpr std::size_t max_file_size = 256;

audit_error file_error(std::string_view what, const std::filesystem::path& p, int err) {
    return {audit_errc::head_file_failure,
            fmt::format("audit head file {}: {}: {}", p.string(), what, std::strerror(err))};
}

/// Closes a descriptor on every path out.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        auto n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::optional<store::audit_head> parse(std::string_view text) {
    if (text.substr(0, magic.size()) != magic || text.empty() || text.back() != '\n') {
        return std::nullopt;
    }
    text.remove_prefix(magic.size());
    text.remove_suffix(1);
    auto space = text.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    std::int64_t seq = 0;
    auto seq_text = text.substr(0, space);
    auto [end, ec] = std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
    if (ec != std::errc{} || end != seq_text.data() + seq_text.size() || seq < 1) {
        return std::nullopt;
    }
    auto hash = from_hex(text.substr(space + 1));
    if (!hash || hash->size() != 32) {
        return std::nullopt;
    }
    return store::audit_head{seq, std::move(*hash)};
}

} // namespace

audit_result<std::optional<store::audit_head>> read_head_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return std::optional<store::audit_head>{};
        }
        return std::unexpected(file_error("open", path, errno));
    }
    fd_guard guard{fd};
    std::string text;
    char buf[max_file_size + 1];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return std::unexpected(file_error("read", path, errno));
        }
        if (n == 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > max_file_size) {
            break;
        }
    }
    auto head = parse(text);
    if (!head) {
        return std::unexpected(audit_error{
            audit_errc::invalid_argument,
            fmt::format("audit head file {} is not an esimguard head file", path.string())});
    }
    return std::optional<store::audit_head>{std::move(*head)};
}

audit_result<void> write_head_file(const std::filesystem::path& path,
                                   const store::audit_head& head) {
    auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    // One temporary name per process: writers within a process hold the
    // chain's mutex, writers of different processes hold the lock file.
    auto tmp = path;
    tmp += fmt::format(".tmp.{}", ::getpid());
    auto text = fmt::format("{}{} {}\n", magic, head.seq, to_hex(head.hash));
    {
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0) {
            return std::unexpected(file_error("create temporary", tmp, errno));
        }
        fd_guard guard{fd};
        if (!write_all(fd, text)) {
            int err = errno;
            ::unlink(tmp.c_str());
            return std::unexpected(file_error("write", tmp, err));
        }
        // Durable before it becomes visible: a rename over the old head
        // followed by a crash must not leave an empty file.
        if (::fsync(fd) != 0) {
            int err = errno;
            ::unlink(tmp.c_str());
            return std::unexpected(file_error("fsync", tmp, err));
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return std::unexpected(file_error("rename", path, err));
    }
    // The rename itself lives in the directory.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        return std::unexpected(file_error("open directory", dir, errno));
    }
    fd_guard dguard{dfd};
    if (::fsync(dfd) != 0) {
        return std::unexpected(file_error("fsync directory", dir, errno));
    }
    return {};
}

audit_result<head_file_lock> head_file_lock::acquire(const std::filesystem::path& path) {
    auto lock_path = path;
    lock_path += ".lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        return std::unexpected(file_error("open lock", lock_path, errno));
    }
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int err = errno;
            ::close(fd);
            return std::unexpected(file_error("lock", lock_path, err));
        }
    }
    return head_file_lock(fd);
}

head_file_lock::~head_file_lock() {
    if (fd_ >= 0) {
        ::close(fd_); // releases the flock
    }
}

} // namespace esimguard::defense::audit
