// The evaluation protocol on another architecture: train a fresh network of the zoo on a
// (synthetic) training set with SGD (momentum, weight decay, lr x 0.1 halfway, DSA on every
// batch), then test it on the real test set. One call trains and tests one network.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "augment/dsa.h"
#include "model/zoo.h"

namespace trajmatch::eval {

struct ZooTrainConfig {
  double lr = 0.01;
  double momentum = 0.9;
  double weightDecay = 5e-4;
  int64_t epochs = 1000;
  int64_t batchSize = 256;
  std::optional<augment::DsaConfig> dsa;
  uint64_t seed = 0;
};

// Test accuracy in [0, 1] of a fresh network trained on (images, labels).
double trainAndTest(const model::ZooSpec& spec, const torch::Tensor& images, const torch::Tensor& labels,
                    const torch::Tensor& testImages, const torch::Tensor& testLabels, const ZooTrainConfig& config);

}  // namespace trajmatch::eval
