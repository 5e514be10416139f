#include "train/loss.h"

#include <cmath>

namespace trajmatch::train {

void checkLabels(const torch::Tensor& labels, int64_t count, int64_t numClasses, const char* where) {
  if (labels.dim() == 1) {
    TORCH_CHECK(labels.scalar_type() == torch::kInt64 && labels.size(0) == count, where, " must be int64 [", count,
                "] (class indices) or floating point [", count, ", ", numClasses, "] (soft labels), received ",
                labels.scalar_type(), " ", labels.sizes());
    // One read-back per call, not per step: -100 (PyTorch's ignore_index) or a class past the last
    // would otherwise be skipped or index out of range silently.
    if (count > 0) {
      auto [low, high] = torch::aminmax(labels);
      const int64_t lo = low.item<int64_t>(), hi = high.item<int64_t>();
      TORCH_CHECK(lo >= 0 && hi < numClasses, where, " must be class indices in [0, ", numClasses,
                  "), received values from ", lo, " to ", hi);
    }
    return;
  }
  TORCH_CHECK(
      labels.dim() == 2 && labels.is_floating_point() && labels.size(0) == count && labels.size(1) == numClasses, where,
      " must be int64 [", count, "] (class indices) or floating point [", count, ", ", numClasses,
      "] (soft labels), received ", labels.scalar_type(), " ", labels.sizes());
  if (count > 0) {
    auto [low, high] = torch::aminmax(labels);
    const double lo = low.item<double>(), hi = high.item<double>();
    TORCH_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo >= 0 && hi <= 1, where,
                " (soft labels) must be class probabilities in [0, 1], received values from ", lo, " to ", hi);
  }
}

torch::Tensor crossEntropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (labels.dim() == 1) return torch::nn::functional::cross_entropy(logits, labels);
  return -(labels.to(logits.scalar_type()) * torch::log_softmax(logits, 1)).sum(1).mean();
}

torch::Tensor labelClasses(const torch::Tensor& labels) { return labels.dim() == 1 ? labels : labels.argmax(1); }

}  // namespace trajmatch::train
