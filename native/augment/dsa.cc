#include "augment/dsa.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/seed.h"

namespace trajmatch::augment {

namespace {

using torch::indexing::TensorIndex;

// round-half-up as the published code's int(x + 0.5)
int64_t roundHalfUp(double v) { return static_cast<int64_t>(v + 0.5); }

torch::Tensor brightness(const torch::Tensor& x, const torch::Tensor& u, double ratio) { return x + (u - 0.5) * ratio; }

torch::Tensor saturation(const torch::Tensor& x, const torch::Tensor& u, double ratio) {
  const auto mean = x.mean(1, /*keepdim=*/true);
  return (x - mean) * (u * ratio) + mean;
}

torch::Tensor contrast(const torch::Tensor& x, const torch::Tensor& u, double ratio) {
  const auto mean = x.mean({1, 2, 3}, /*keepdim=*/true);
  return (x - mean) * (u + ratio) + mean;
}

// Translation with zero fill: pad by one pixel of zeros, then gather with indices clamped into the
// padding, as the published rand_crop does.
torch::Tensor crop(const torch::Tensor& x, const torch::Tensor& tx, const torch::Tensor& ty) {
  const auto n = x.size(0), h = x.size(2), w = x.size(3);
  const auto idx = torch::TensorOptions().dtype(torch::kInt64).device(x.device());
  const auto b = torch::arange(n, idx).view({n, 1, 1}).expand({n, h, w});
  const auto gx = (torch::arange(h, idx).view({1, h, 1}) + tx.view({n, 1, 1}) + 1).clamp(0, h + 1).expand({n, h, w});
  const auto gy = (torch::arange(w, idx).view({1, 1, w}) + ty.view({n, 1, 1}) + 1).clamp(0, w + 1).expand({n, h, w});
  const auto padded = torch::constant_pad_nd(x, {1, 1, 1, 1}, 0).permute({0, 2, 3, 1});
  return padded.index({TensorIndex(b), TensorIndex(gx), TensorIndex(gy)}).permute({0, 3, 1, 2});
}

torch::Tensor cutout(const torch::Tensor& x, const torch::Tensor& ox, const torch::Tensor& oy, int64_t ch, int64_t cw) {
  const auto n = x.size(0), h = x.size(2), w = x.size(3);
  const auto idx = torch::TensorOptions().dtype(torch::kInt64).device(x.device());
  const auto b = torch::arange(n, idx).view({n, 1, 1}).expand({n, ch, cw});
  const auto gx =
      (torch::arange(ch, idx).view({1, ch, 1}) + ox.view({n, 1, 1}) - ch / 2).clamp(0, h - 1).expand({n, ch, cw});
  const auto gy =
      (torch::arange(cw, idx).view({1, 1, cw}) + oy.view({n, 1, 1}) - cw / 2).clamp(0, w - 1).expand({n, ch, cw});
  auto mask = torch::ones({n, h, w}, x.options());
  mask.index_put_({TensorIndex(b), TensorIndex(gx), TensorIndex(gy)}, 0);
  return x * mask.unsqueeze(1);
}

torch::Tensor affine(const torch::Tensor& x, const torch::Tensor& theta) {
  const auto grid = at::affine_grid_generator(theta, x.sizes(), /*align_corners=*/true);
  return at::grid_sampler(x, grid, /*interpolation_mode=bilinear*/ 0, /*padding_mode=zeros*/ 0, /*align_corners=*/true);
}

}  // namespace

DsaConfig parseDsaStrategy(const std::string& strategy) {
  DsaConfig config;
  std::stringstream ss(strategy);
  std::string name;
  while (std::getline(ss, name, '_')) {
    if (name == "color") config.groups.push_back(DsaGroup::Color);
    else if (name == "crop") config.groups.push_back(DsaGroup::Crop);
    else if (name == "cutout") config.groups.push_back(DsaGroup::Cutout);
    else if (name == "flip") config.groups.push_back(DsaGroup::Flip);
    else if (name == "scale") config.groups.push_back(DsaGroup::Scale);
    else if (name == "rotate") config.groups.push_back(DsaGroup::Rotate);
    else {
      throw std::invalid_argument("unknown DSA augmentation '" + name + "' in strategy '" + strategy +
                                  "': expected groups from color, crop, cutout, flip, scale, rotate joined by '_'");
    }
  }
  if (config.groups.empty()) throw std::invalid_argument("the DSA strategy '" + strategy + "' names no augmentation");
  return config;
}

DsaDraw drawDsa(const DsaConfig& config, int64_t n, int64_t h, int64_t w, uint64_t seed,
                const torch::TensorOptions& options) {
  TORCH_CHECK(!config.groups.empty(), "DSA: no augmentation groups");
  auto gen = cpuGenerator(seed);
  const auto cpu = torch::TensorOptions().dtype(torch::kFloat64);
  const auto ints = torch::TensorOptions().dtype(torch::kInt64);
  DsaDraw draw;
  const auto pick = torch::randint(0, static_cast<int64_t>(config.groups.size()), {1}, gen, ints);
  draw.group = config.groups[static_cast<size_t>(pick.item<int64_t>())];  // a CPU tensor: no device sync
  const auto uniform = [&](std::vector<int64_t> shape) { return torch::rand(shape, gen, cpu); };
  switch (draw.group) {
    case DsaGroup::Color: draw.values = {uniform({n, 1, 1, 1}), uniform({n, 1, 1, 1}), uniform({n, 1, 1, 1})}; break;
    case DsaGroup::Crop: {
      const auto sx = roundHalfUp(h * config.cropRatio), sy = roundHalfUp(w * config.cropRatio);
      draw.values = {torch::randint(-sx, sx + 1, {n}, gen, ints), torch::randint(-sy, sy + 1, {n}, gen, ints)};
      break;
    }
    case DsaGroup::Cutout: {
      const auto ch = roundHalfUp(h * config.cutoutRatio), cw = roundHalfUp(w * config.cutoutRatio);
      draw.values = {torch::randint(0, h + (1 - ch % 2), {n}, gen, ints),
                     torch::randint(0, w + (1 - cw % 2), {n}, gen, ints)};
      break;
    }
    case DsaGroup::Flip: draw.values = {uniform({n, 1, 1, 1})}; break;
    case DsaGroup::Scale: draw.values = {uniform({n}), uniform({n})}; break;
    case DsaGroup::Rotate: draw.values = {uniform({n})}; break;
  }
  for (auto& v : draw.values) {
    v = v.is_floating_point() ? v.to(options) : v.to(options.device());
  }
  return draw;
}

torch::Tensor applyDsa(const torch::Tensor& x, const DsaDraw& draw, const DsaConfig& config) {
  TORCH_CHECK(x.dim() == 4, "DSA: images must have shape [N, C, H, W], received ", x.sizes());
  const auto h = x.size(2), w = x.size(3);
  const auto& v = draw.values;
  switch (draw.group) {
    case DsaGroup::Color:
      return contrast(saturation(brightness(x, v[0], config.brightness), v[1], config.saturation), v[2],
                      config.contrast);
    case DsaGroup::Crop: return crop(x, v[0], v[1]);
    case DsaGroup::Cutout:
      return cutout(x, v[0], v[1], roundHalfUp(h * config.cutoutRatio), roundHalfUp(w * config.cutoutRatio));
    case DsaGroup::Flip: return torch::where(v[0] < config.flipProbability, x.flip({3}), x);
    case DsaGroup::Scale: {
      const double r = config.scaleRatio;
      const auto sx = v[0] * (r - 1.0 / r) + 1.0 / r;
      const auto sy = v[1] * (r - 1.0 / r) + 1.0 / r;
      const auto zero = torch::zeros_like(sx);
      const auto theta = torch::stack({torch::stack({sx, zero, zero}, 1), torch::stack({zero, sy, zero}, 1)}, 1);
      return affine(x, theta.to(x.scalar_type()));
    }
    case DsaGroup::Rotate: {
      const auto angle = (v[0] - 0.5) * 2 * config.rotateDegrees / 180.0 * M_PI;
      const auto c = angle.cos(), s = angle.sin(), zero = torch::zeros_like(angle);
      const auto theta = torch::stack({torch::stack({c, s, zero}, 1), torch::stack({-s, c, zero}, 1)}, 1);
      return affine(x, theta.to(x.scalar_type()));
    }
  }
  return x;
}

torch::Tensor dsa(const torch::Tensor& images, const DsaConfig& config, uint64_t seed) {
  // checked before the draw, which reads the height and width
  TORCH_CHECK(images.dim() == 4, "DSA: images must have shape [N, C, H, W], received ", images.sizes());
  TORCH_CHECK(images.is_floating_point(), "DSA: images must be floating point, received ", images.scalar_type());
  return applyDsa(images, drawDsa(config, images.size(0), images.size(2), images.size(3), seed, images.options()),
                  config);
}

std::pair<torch::Tensor, torch::Tensor> dsaWithVjp(const torch::Tensor& images, const DsaConfig& config, uint64_t seed,
                                                   const torch::Tensor& cotangent) {
  torch::AutoGradMode gradMode(true);
  const auto x = images.detach().requires_grad_(true);
  const auto y = dsa(x, config, seed);
  TORCH_CHECK(cotangent.sizes() == y.sizes(), "cotangent must have shape ", y.sizes(), ", received ",
              cotangent.sizes());
  const auto grad = torch::autograd::grad({y}, {x}, {cotangent})[0];
  return {y.detach(), grad};
}

}  // namespace trajmatch::augment
