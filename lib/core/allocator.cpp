#include "esimguard/core/allocator.hpp"

#include <malloc.h>

namespace esimguard {

void tune_allocator_for_server() {
    // Setting a threshold explicitly also turns off glibc's dynamic
    // adjustment of it. mallopt only fails on an unknown option, which these
    // are not; the defaults remain if it ever does.
    (void)::mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    (void)::mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    (void)::mallopt(M_TOP_PAD, 64 * 1024 * 1024);
}

} // namespace esimguard
