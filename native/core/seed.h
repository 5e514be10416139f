// Seeds for libtorch's CPU generators: every random draw of the engine comes from a seeded
// generator, so that runs repeat and augmentations can be replayed exactly.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstdint>

namespace trajmatch {

// splitmix64: a well-mixed 64-bit seed for stream `index` of a run seeded with `seed`.
inline uint64_t deriveSeed(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline at::Generator cpuGenerator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

}  // namespace trajmatch
