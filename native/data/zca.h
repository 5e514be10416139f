// ZCA whitening as the published trajectory-matching code applies it (kornia's ZCAWhitening with
// eps = 0.1): fitted on the flattened training images, x_white = (x - mu) W with
// W = U (S + eps)^-1/2 U^T from the eigendecomposition C = U S U^T of the (unbiased) covariance,
// and the inverse x = x_white W^-1 + mu with W^-1 = U (S + eps)^1/2 U^T: eps inside the square
// root, as kornia 0.6.3 (MTT's pinned version) builds its inverse (kornia/enhance/zca.py:255).
#pragma once

#include <torch/torch.h>

namespace trajmatch::data {

struct ZcaTransform {
  torch::Tensor mean;      // mu [D]
  torch::Tensor whiten;    // W [D, D]
  torch::Tensor unwhiten;  // W^-1 [D, D]
};

// Fits on images [N, ...] (N >= 2), in float64 for the eigendecomposition; the result has the
// images' dtype and device. The covariance is accumulated in row chunks to bound memory.
ZcaTransform zcaFit(const torch::Tensor& images, double eps);

// (x - mu) W for images [N, ...] with prod(...) == D, keeping their shape.
torch::Tensor zcaWhiten(const torch::Tensor& images, const ZcaTransform& zca);

// x_white W^-1 + mu: whitened images back into normalised pixels.
torch::Tensor zcaUnwhiten(const torch::Tensor& images, const ZcaTransform& zca);

}  // namespace trajmatch::data
