#include "core/device_memory.h"

#if defined(TRAJMATCH_CUDA_ALLOCATOR_STATS)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace trajmatch {

bool deviceMemoryStatsAvailable() {
#if defined(TRAJMATCH_CUDA_ALLOCATOR_STATS)
  return true;
#else
  return false;
#endif
}

void resetPeakDeviceBytes(const torch::Device& device) {
#if defined(TRAJMATCH_CUDA_ALLOCATOR_STATS)
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#else
  (void)device;
#endif
}

std::optional<int64_t> peakDeviceBytes(const torch::Device& device) {
#if defined(TRAJMATCH_CUDA_ALLOCATOR_STATS)
  if (!device.is_cuda()) return std::nullopt;
  // index 0 of the stat arrays is the aggregate over pool types, in libtorch 1.x and 2.x alike
  return c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index())
      .allocated_bytes[0]
      .peak;
#else
  (void)device;
  return std::nullopt;
#endif
}

}  // namespace trajmatch
