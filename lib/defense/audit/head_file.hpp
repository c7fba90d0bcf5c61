#pragma once
// The audit head file: one line "esimguard-audit-head v1 <seq> <hash hex>",
// replaced atomically, and a lock file beside it that orders writers from
// several processes.

#include "esimguard/defense/audit_chain.hpp"

#include <filesystem>
#include <optional>

namespace esimguard::defense::audit {

/// The head in the file; nullopt when the file does not exist.
/// head_file_failure if it exists but cannot be read; invalid_argument if it
/// is not a head file (the caller reports head_invalid).
[[nodiscard]] audit_result<std::optional<store::audit_head>>
read_head_file(const std::filesystem::path& path);

/// Writes `head` to a temporary file beside `path`, fsyncs it, renames it
/// over `path` and fsyncs the directory, so that a crash leaves either the
/// old head or the new one, never a torn file.
[[nodiscard]] audit_result<void> write_head_file(const std::filesystem::path& path,
                                                 const store::audit_head& head);

/// An exclusive flock on "<path>.lock", held while it lives.
class head_file_lock {
public:
    [[nodiscard]] static audit_result<head_file_lock> acquire(const std::filesystem::path& path);
    head_file_lock(head_file_lock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    head_file_lock(const head_file_lock&) = delete;
    head_file_lock& operator=(const head_file_lock&) = delete;
    head_file_lock& operator=(head_file_lock&&) = delete;
    ~head_file_lock();

private:
    explicit head_file_lock(int fd) : fd_(fd) {}
    int fd_;
};

} // namespace esimguard::defense::audit
