#pragma once
/// Process-wide tuning of glibc's allocator for a multi-threaded server.

namespace esimguard {

/// Keeps freed memory in the process instead of handing it back to the
/// kernel on every free: blocks up to 32 MiB come from the heap, not from a
/// fresh mmap, and a heap's free top is returned only past 256 MiB. Each
/// munmap or madvise of a threaded process shoots down the TLB of every core
/// it runs on, and on a virtual machine that is a trip to the hypervisor;
/// glibc's defaults did so several times per download (perf: madvise,
/// sysmalloc, TLB flushes), and this cut the server's CPU per download by a
/// quarter (docs/PERFORMANCE.md). Memory freed stays reserved for reuse,
/// which raises resident memory after a peak by at most those thresholds per
/// arena. Call once at the start of main(), before threads start.
void tune_allocator_for_server();

} // namespace esimguard
