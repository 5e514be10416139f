// libtorch's CPU allocator, replaced by one that keeps freed blocks for reuse.
//
// Every training step allocates and frees the same tensors (activations, gradients, parameter
// vectors), most of them above glibc's mmap threshold (and all of them in the arenas of libuv's
// worker threads, which glibc trims back to the OS eagerly): each one was mapped, zero-filled page
// by page on first touch and unmapped again, which cost as much system time as the arithmetic took
// user time. Freed blocks are kept here by size and handed out again, so a loop that repeats itself
// stops faulting after its first pass. The malloc of the rest of the process (Node's included) is
// left alone: tcmalloc or jemalloc would need LD_PRELOAD, which a library loaded into someone
// else's Node process cannot do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace trajmatch {

struct CpuAllocatorState {
  bool enabled = false;    // ours is libtorch's CPU allocator
  std::string reason;      // why (or why not): the environment variable, or "default"
  int64_t cacheLimit = 0;  // bytes of freed blocks kept at most
  int64_t cachedBytes = 0;
  int64_t cachedBlocks = 0;
  int64_t hits = 0;       // allocations served from the cache
  int64_t misses = 0;     // allocations (of cached sizes) that went to the system
  int64_t evictions = 0;  // blocks given back to the system to stay under the limit
};

// Installs the reusing allocator once, unless TRAJMATCH_CPU_ALLOCATOR=system. The cache limit is
// TRAJMATCH_CPU_CACHE_MIB (default kDefaultCacheMiB); beyond it the least recently freed blocks are
// given back. A malformed variable keeps libtorch's allocator, and the state's reason says why
// (loading the addon must not fail over a tuning knob).
void installCpuAllocator();

CpuAllocatorState cpuAllocatorState();

constexpr int64_t kDefaultCacheMiB = 1024;

}  // namespace trajmatch
