// The CUDA caching allocator's peak of allocated bytes, for the bench. Where the engine was built
// without the allocator's statistics (a CPU libtorch, or an API this code does not know), the
// functions say so by returning nothing: the bench then reports the figure as missing.
#pragma once

#include <torch/torch.h>

#include <optional>

namespace trajmatch {

// Whether this build can read the CUDA allocator's statistics.
bool deviceMemoryStatsAvailable();

// Resets the peak of `device` (no-op on the CPU or without statistics).
void resetPeakDeviceBytes(const torch::Device& device);

// Peak allocated bytes on a CUDA device since the last reset; nothing on the CPU or without statistics.
std::optional<int64_t> peakDeviceBytes(const torch::Device& device);

}  // namespace trajmatch
