// Training and evaluation passes of a functional network on a dataset that lives on the device:
// the expert training of the buffer and the evaluation protocol both run through here.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "augment/dsa.h"
#include "model/convnet.h"

namespace trajmatch::train {

struct SgdConfig {
  double lr = 0.01;
  double momentum = 0.0;
  double weightDecay = 0.0;
  int64_t batchSize = 256;
  std::optional<augment::DsaConfig> dsa;  // augmentation of every batch, when set
  uint64_t seed = 0;                      // the epoch's shuffle and augmentations
};

struct PassStats {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // top-1, in [0, 1]
  int64_t count = 0;    // examples seen
};

// One epoch of minibatch SGD with PyTorch's update rule (weight decay added to the gradient,
// momentum buffer b = momentum * b + g, p -= lr * b). `params` and `momentumBuffer` (same shape;
// may be undefined when momentum is 0) are updated in place. The permutation and the
// augmentations come from `config.seed`. Labels are int64 classes [N] or soft labels [N, C]
// (train/loss.h). Statistics are read back once, at the end.
PassStats trainEpoch(const model::ConvNet& net, torch::Tensor& params, torch::Tensor& momentumBuffer,
                     const torch::Tensor& images, const torch::Tensor& labels, const SgdConfig& config);

// Mean loss and top-1 accuracy over a dataset, in batches, without gradients.
PassStats evaluate(const model::ConvNet& net, const torch::Tensor& params, const torch::Tensor& images,
                   const torch::Tensor& labels, int64_t batchSize);

}  // namespace trajmatch::train
