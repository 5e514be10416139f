#include "data/zca.h"

namespace trajmatch::data {

namespace {

constexpr int64_t kChunkRows = 4096;

void checkImages(const torch::Tensor& images, const ZcaTransform& zca) {
  TORCH_CHECK(images.dim() >= 2 && images.numel() / std::max<int64_t>(images.size(0), 1) == zca.mean.numel(),
              "ZCA: images of ", images.numel() / std::max<int64_t>(images.size(0), 1),
              " values each do not match the fitted ", zca.mean.numel());
}

// Applies x -> x M + b to the flattened images in row chunks, so that no second full-size
// temporary is needed for large datasets.
torch::Tensor affineRows(const torch::Tensor& images, const torch::Tensor& m, const torch::Tensor& before,
                         const torch::Tensor& after) {
  const auto flat = images.reshape({images.size(0), -1});
  auto out = torch::empty_like(flat);
  for (int64_t r = 0; r < flat.size(0); r += kChunkRows) {
    const auto rows = std::min(kChunkRows, flat.size(0) - r);
    auto x = flat.narrow(0, r, rows);
    if (before.defined()) x = x - before;
    auto y = torch::matmul(x, m);
    if (after.defined()) y = y + after;
    out.narrow(0, r, rows).copy_(y);
  }
  return out.view(images.sizes());
}

}  // namespace

ZcaTransform zcaFit(const torch::Tensor& images, double eps) {
  TORCH_CHECK(images.is_floating_point(), "ZCA: images must be floating point, received ", images.scalar_type());
  TORCH_CHECK(images.dim() >= 2 && images.size(0) >= 2, "ZCA needs at least 2 images, received shape ", images.sizes());
  TORCH_CHECK(eps >= 0, "ZCA: eps must be non-negative, received ", eps);
  torch::NoGradGuard noGrad;
  const auto flat = images.reshape({images.size(0), -1});
  const auto n = flat.size(0);
  const auto d = flat.size(1);
  const auto mean = flat.mean(0);

  // Unbiased covariance, accumulated over row chunks in the images' dtype, then float64.
  auto cov = torch::zeros({d, d}, flat.options());
  for (int64_t r = 0; r < n; r += kChunkRows) {
    const auto x = flat.narrow(0, r, std::min(kChunkRows, n - r)) - mean;
    cov.addmm_(x.t(), x);
  }
  cov = cov.to(torch::kFloat64).div_(static_cast<double>(n - 1));
  cov = (cov + cov.t()) * 0.5;  // exact symmetry for the symmetric eigensolver

  // at::linalg_eigh rather than torch::linalg::eigh: the ATen op is in every libtorch from 1.13 to
  // 2.x, while the torch::linalg C++ wrapper (torch/linalg.h) is missing from some 2.x installs.
  const auto [s, u] = at::linalg_eigh(cov, "L");
  const auto sClamped = s.clamp_min(0);  // rounding can leave tiny negative eigenvalues
  const auto inv = (sClamped + eps).rsqrt();
  const auto fwd = (sClamped + eps).sqrt();
  ZcaTransform zca;
  zca.mean = mean;
  zca.whiten = torch::matmul(u * inv.unsqueeze(0), u.t()).to(flat.scalar_type());
  zca.unwhiten = torch::matmul(u * fwd.unsqueeze(0), u.t()).to(flat.scalar_type());
  return zca;
}

torch::Tensor zcaWhiten(const torch::Tensor& images, const ZcaTransform& zca) {
  checkImages(images, zca);
  torch::NoGradGuard noGrad;
  return affineRows(images, zca.whiten, zca.mean, torch::Tensor());
}

torch::Tensor zcaUnwhiten(const torch::Tensor& images, const ZcaTransform& zca) {
  checkImages(images, zca);
  torch::NoGradGuard noGrad;
  return affineRows(images, zca.unwhiten, torch::Tensor(), zca.mean);
}

}  // namespace trajmatch::data
