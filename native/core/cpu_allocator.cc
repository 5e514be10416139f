#include "core/cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <sys/mman.h>
#include <torch/version.h>

#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace trajmatch {

namespace {

// Below this, glibc serves blocks from its free lists without touching the OS; caching them would
// only add a lock and a map lookup.
constexpr size_t kMinCachedBytes = 64 * 1024;
// Sizes are rounded up to whole pages, so that tensors whose sizes differ by a few elements (the
// last minibatch, a view's padding) share blocks.
constexpr size_t kRounding = 4096;
// Blocks of this size and above are rounded to and aligned on huge pages, and the kernel is asked to
// back them with transparent huge pages: the first touch of a new block then takes one fault per
// 2 MiB instead of one per 4 KiB (where THP is off, the advice is ignored).
constexpr size_t kHugePage = 2 << 20;

size_t roundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

void* systemAlloc(size_t size) {
  if (size < kHugePage) return c10::alloc_cpu(size);
  void* p = nullptr;
  if (posix_memalign(&p, kHugePage, size) != 0 || p == nullptr) {
    return c10::alloc_cpu(size);  // its own error when the system has no memory left
  }
  // c10::free_cpu is free() off Windows, so it releases these blocks too.
#ifdef MADV_HUGEPAGE
  madvise(p, size, MADV_HUGEPAGE);
#endif
  return p;
}

// libtorch 2.3 made Allocator::allocate non-const and added copy_data.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define TRAJMATCH_ALLOCATE_CONST
#define TRAJMATCH_HAS_COPY_DATA 1
#else
#define TRAJMATCH_ALLOCATE_CONST const
#define TRAJMATCH_HAS_COPY_DATA 0
#endif

class ReusingCpuAllocator final : public c10::Allocator {
 public:
  explicit ReusingCpuAllocator(size_t limit) : limit_(limit) {}

  c10::DataPtr allocate(size_t n) TRAJMATCH_ALLOCATE_CONST override {
    if (n < kMinCachedBytes) {  // straight from the system, and back to it without the lock
      void* p = n == 0 ? nullptr : c10::alloc_cpu(n);
      return {p, p, &c10::free_cpu, c10::Device(c10::DeviceType::CPU)};
    }
    void* p = take(n);
    return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

#if TRAJMATCH_HAS_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#endif

  CpuAllocatorState state() const {
    std::lock_guard<std::mutex> lock(mu_);
    CpuAllocatorState s;
    s.cacheLimit = static_cast<int64_t>(limit_);
    s.cachedBytes = static_cast<int64_t>(cached_);
    s.cachedBlocks = static_cast<int64_t>(lru_.size());
    s.hits = hits_;
    s.misses = misses_;
    s.evictions = evictions_;
    return s;
  }

  static ReusingCpuAllocator* instance;

 private:
  struct Block {
    size_t size;
    void* ptr;
  };
  using Lru = std::list<Block>;  // front: the most recently freed

  void* take(size_t n) const {
    const size_t size = roundUp(n, n >= kHugePage ? kHugePage : kRounding);
    {
      std::lock_guard<std::mutex> lock(mu_);
      // the smallest kept block that fits, if it is not much larger (the last, smaller minibatch
      // of an epoch then reuses the blocks of the full ones instead of growing the cache)
      auto it = bySize_.lower_bound(size);
      if (it != bySize_.end() && it->first <= size + size / 2) {
        const auto block = it->second.back();  // the most recently freed of this size: warm in cache
        it->second.pop_back();
        void* p = block->ptr;
        const size_t kept = block->size;
        lru_.erase(block);
        if (it->second.empty()) bySize_.erase(it);
        cached_ -= kept;
        live_.emplace(p, kept);
        ++hits_;
        return p;
      }
      ++misses_;
    }
    void* p = systemAlloc(size);  // throws c10::Error when the system has no memory left
    std::lock_guard<std::mutex> lock(mu_);
    live_.emplace(p, size);
    return p;
  }

  void give(void* p) {
    std::vector<void*> evicted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = live_.find(p);
      if (it == live_.end()) {  // a small block through raw_deallocate: the system's
        evicted.push_back(p);
      } else {
        const size_t size = it->second;
        live_.erase(it);
        if (size > limit_) {
          evicted.push_back(p);
        } else {
          lru_.push_front({size, p});
          bySize_[size].push_back(lru_.begin());
          cached_ += size;
          evictedUnlocked(evicted);
        }
      }
    }
    for (void* q : evicted) c10::free_cpu(q);
  }

  // Drops the least recently freed blocks until the cache fits its limit; freed by the caller
  // outside the lock.
  void evictedUnlocked(std::vector<void*>& out) {
    while (cached_ > limit_ && !lru_.empty()) {
      const auto oldest = std::prev(lru_.end());
      auto& bucket = bySize_[oldest->size];
      // the oldest block of a size is the first one pushed into its bucket
      bucket.erase(bucket.begin());
      if (bucket.empty()) bySize_.erase(oldest->size);
      cached_ -= oldest->size;
      out.push_back(oldest->ptr);
      lru_.erase(oldest);
      ++evictions_;
    }
  }

  static void release(void* p) {
    if (p != nullptr) instance->give(p);
  }

  const size_t limit_;
  mutable std::mutex mu_;
  mutable Lru lru_;
  mutable std::map<size_t, std::vector<Lru::iterator>> bySize_;  // never holds an empty vector
  mutable std::unordered_map<void*, size_t> live_;
  mutable size_t cached_ = 0;
  mutable int64_t hits_ = 0, misses_ = 0, evictions_ = 0;
};

ReusingCpuAllocator* ReusingCpuAllocator::instance = nullptr;

CpuAllocatorState gState;

size_t cacheLimitFromEnv() {
  const char* v = std::getenv("TRAJMATCH_CPU_CACHE_MIB");
  if (!v || !*v) return static_cast<size_t>(kDefaultCacheMiB) << 20;
  char* end = nullptr;
  const long long mib = std::strtoll(v, &end, 10);
  if (*end != '\0' || mib < 0) {
    throw std::invalid_argument(
        std::string("TRAJMATCH_CPU_CACHE_MIB must be a whole number of MiB (0 or more), received '") + v + "'");
  }
  return static_cast<size_t>(mib) << 20;
}

}  // namespace

void installCpuAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* choice = std::getenv("TRAJMATCH_CPU_ALLOCATOR");
    const std::string mode = choice && *choice ? choice : "reuse";
    if (mode != "reuse" && mode != "system") {
      gState.reason = "TRAJMATCH_CPU_ALLOCATOR='" + mode + "' is not 'reuse' or 'system'; libtorch's own is kept";
      return;
    }
    if (mode == "system") {
      gState.reason = "TRAJMATCH_CPU_ALLOCATOR=system";
      return;
    }
    size_t limit = 0;
    try {
      limit = cacheLimitFromEnv();
    } catch (const std::exception& e) {
      gState.reason = std::string(e.what()) + "; libtorch's own allocator is kept";
      return;
    }
    // Never destroyed: tensors may be freed by static destructors after this library's own.
    ReusingCpuAllocator::instance = new ReusingCpuAllocator(limit);
    c10::SetCPUAllocator(ReusingCpuAllocator::instance, /*priority=*/1);
    gState.enabled = c10::GetCPUAllocator() == ReusingCpuAllocator::instance;
    gState.cacheLimit = static_cast<int64_t>(limit);
    gState.reason = gState.enabled ? (std::getenv("TRAJMATCH_CPU_CACHE_MIB") ? "TRAJMATCH_CPU_CACHE_MIB" : "default")
                                   : "another CPU allocator of higher priority is installed";
  });
}

CpuAllocatorState cpuAllocatorState() {
  CpuAllocatorState s = gState;
  if (ReusingCpuAllocator::instance && gState.enabled) {
    const auto live = ReusingCpuAllocator::instance->state();
    s.cacheLimit = live.cacheLimit;
    s.cachedBytes = live.cachedBytes;
    s.cachedBlocks = live.cachedBlocks;
    s.hits = live.hits;
    s.misses = live.misses;
    s.evictions = live.evictions;
  }
  return s;
}

}  // namespace trajmatch
