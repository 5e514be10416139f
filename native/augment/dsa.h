// DSA, differentiable Siamese augmentation (Zhao & Bilen, ICML 2021), as trajectory matching uses
// it: in single mode each call draws ONE group of the strategy and applies it with random values
// per image. Every operation is differentiable with respect to the pixels. The random values are
// drawn from a seeded CPU generator into a DsaDraw, so an augmentation can be replayed exactly
// (the distillation's recompute passes apply the same augmentation twice).
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace trajmatch::augment {

enum class DsaGroup { Color, Crop, Cutout, Flip, Scale, Rotate };

struct DsaConfig {
  std::vector<DsaGroup> groups;  // from the strategy string, e.g. "color_crop_cutout_flip_scale_rotate"
  // The published parameters (ParamDiffAug).
  double brightness = 1.0;   // x + (u - 0.5) * brightness
  double saturation = 2.0;   // (x - mean_c) * (u * saturation) + mean_c
  double contrast = 0.5;     // (x - mean_chw) * (u + contrast) + mean_chw
  double cropRatio = 0.125;  // integer shifts in [-round(ratio * size), +round(ratio * size)]
  double cutoutRatio = 0.5;  // a square of round(ratio * size) zeroed at a random centre
  double flipProbability = 0.5;
  double scaleRatio = 1.2;      // sx, sy uniform in [1/ratio, ratio]
  double rotateDegrees = 15.0;  // angle uniform in [-degrees, +degrees]
};

// Parses "color_crop_cutout_flip_scale_rotate" (any subset, '_'-separated); throws
// std::invalid_argument naming an unknown group.
DsaConfig parseDsaStrategy(const std::string& strategy);

// The random values of one augmentation call: which group, and its values per image.
struct DsaDraw {
  DsaGroup group = DsaGroup::Flip;
  std::vector<torch::Tensor> values;
};

// Draws the group and its values for n images of h x w from `seed`, on `device` in `dtype`.
DsaDraw drawDsa(const DsaConfig& config, int64_t n, int64_t h, int64_t w, uint64_t seed,
                const torch::TensorOptions& options);

// Applies a draw to images [n, C, h, w]: deterministic and differentiable.
torch::Tensor applyDsa(const torch::Tensor& images, const DsaDraw& draw, const DsaConfig& config);

// drawDsa + applyDsa.
torch::Tensor dsa(const torch::Tensor& images, const DsaConfig& config, uint64_t seed);

// dsa(images) and its vector-Jacobian product d<dsa(images), cotangent>/d images (the cotangent
// shaped like the output), for checking the augmentation's differentiability.
std::pair<torch::Tensor, torch::Tensor> dsaWithVjp(const torch::Tensor& images, const DsaConfig& config, uint64_t seed,
                                                   const torch::Tensor& cotangent);

}  // namespace trajmatch::augment
