// Training and evaluation passes on a dataset that lives on the device, for every network the
// engine trains (the functional ConvNet of the experts and of the evaluation, and the zoo's
// modules): one epoch loop, one SGD update rule, one evaluation pass.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <optional>
#include <utility>

#include "augment/dsa.h"

namespace trajmatch::train {

// The settings of one epoch, every one set by the caller (the defaults live in TypeScript).
struct SgdConfig {
  double lr = 0;
  double momentum = 0;
  double weightDecay = 0;
  int64_t batchSize = 0;
  std::optional<augment::DsaConfig> dsa;  // augmentation of every batch, when set
  uint64_t seed = 0;                      // the epoch's shuffle and augmentations
};

struct PassStats {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // top-1, in [0, 1]
  int64_t count = 0;    // examples seen
};

// PyTorch's SGD update, in place, without reading anything back to the host: the one copy of the
// rule (the networks' epochs and the distillation's pixel step both use it).
//   g = grad + weightDecay * param;  buffer = momentum * buffer + g;  param -= lr * buffer
// With momentum 0 the buffer is not touched (and may be undefined): param -= lr * g.
void sgdStep(torch::Tensor& param, const torch::Tensor& grad, torch::Tensor& buffer, double lr, double momentum,
             double weightDecay);

// Checks a dataset against a network's input: images [N, channels, height, width], N > 0, and
// labels for them (int64 classes [N] or soft labels [N, numClasses], train/loss.h), both on
// `device`, and a batch size of at least 1.
void checkData(const torch::Tensor& images, const torch::Tensor& labels, int64_t channels, int64_t height,
               int64_t width, int64_t numClasses, const torch::Device& device, int64_t batchSize);

// One training step on a minibatch (x, y): updates the network and returns (loss, logits).
using BatchStep =
    std::function<std::pair<torch::Tensor, torch::Tensor>(const torch::Tensor& x, const torch::Tensor& y)>;

// One epoch of minibatch training: a permutation of the examples drawn from `config.seed`, batches
// of config.batchSize (the last one smaller), each augmented by DSA when config.dsa is set (batch
// b from deriveSeed(config.seed, b)), then `step`. Statistics are read back once, at the end.
PassStats runEpoch(const torch::Tensor& images, const torch::Tensor& labels, const SgdConfig& config,
                   const BatchStep& step);

// Mean loss and top-1 accuracy of `forward` over a dataset, in batches, without gradients.
PassStats evaluatePass(const torch::Tensor& images, const torch::Tensor& labels, int64_t batchSize,
                       const std::function<torch::Tensor(const torch::Tensor&)>& forward);

}  // namespace trajmatch::train
