#include "data/images.h"

namespace trajmatch::data {

torch::Tensor normalizeImages(const torch::Tensor& pixels, const std::vector<double>& mean,
                              const std::vector<double>& std) {
  TORCH_CHECK(pixels.scalar_type() == torch::kUInt8, "pixels must be uint8, received ", pixels.scalar_type());
  TORCH_CHECK(pixels.dim() == 4, "pixels must have shape [N, C, H, W], received ", pixels.sizes());
  const auto channels = pixels.size(1);
  TORCH_CHECK(static_cast<int64_t>(mean.size()) == channels && static_cast<int64_t>(std.size()) == channels,
              "mean and std need one value per channel (", channels, "), received ", mean.size(), " and ", std.size());
  for (double s : std) TORCH_CHECK(s > 0, "std must be positive, received ", s);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(pixels.device());
  const auto m = torch::tensor(std::vector<float>(mean.begin(), mean.end())).to(opts).view({1, channels, 1, 1});
  const auto s = torch::tensor(std::vector<float>(std.begin(), std.end())).to(opts).view({1, channels, 1, 1});
  // in place: no second image-set-sized temporary (the same arithmetic as (x / 255 - m) / s)
  return pixels.to(torch::kFloat32).div_(255.0f).sub_(m).div_(s);
}

}  // namespace trajmatch::data
