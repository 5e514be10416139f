// Turning stored 8-bit images into the float tensors the networks train on.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace trajmatch::data {

// uint8 images [N, C, H, W] -> float32 (x / 255 - mean_c) / std_c, on the images' device.
// mean and std hold one value per channel. Throws c10::Error naming what does not fit.
torch::Tensor normalizeImages(const torch::Tensor& pixels, const std::vector<double>& mean,
                              const std::vector<double>& std);

}  // namespace trajmatch::data
