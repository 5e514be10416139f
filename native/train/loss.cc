#include "train/loss.h"

namespace trajmatch::train {

void checkLabels(const torch::Tensor& labels, int64_t count, int64_t numClasses, const char* where) {
  if (labels.dim() == 1) {
    TORCH_CHECK(labels.scalar_type() == torch::kInt64 && labels.size(0) == count, where, " must be int64 [", count,
                "] (class indices) or floating point [", count, ", ", numClasses, "] (soft labels), received ",
                labels.scalar_type(), " ", labels.sizes());
    return;
  }
  TORCH_CHECK(labels.dim() == 2 && labels.is_floating_point() && labels.size(0) == count && labels.size(1) == numClasses,
              where, " must be int64 [", count, "] (class indices) or floating point [", count, ", ", numClasses,
              "] (soft labels), received ", labels.scalar_type(), " ", labels.sizes());
}

torch::Tensor crossEntropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (labels.dim() == 1) return torch::nn::functional::cross_entropy(logits, labels);
  return -(labels.to(logits.scalar_type()) * torch::log_softmax(logits, 1)).sum(1).mean();
}

torch::Tensor labelClasses(const torch::Tensor& labels) { return labels.dim() == 1 ? labels : labels.argmax(1); }

}  // namespace trajmatch::train
