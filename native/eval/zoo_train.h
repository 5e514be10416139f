// The evaluation protocol on another architecture: train a fresh network of the zoo on a
// (synthetic) training set with SGD (momentum, weight decay, DSA on every batch) through the
// phases of a schedule, then test it on the real test set. One call trains and tests one network.
// The schedule itself (evaluate_synset's epochs and lr decay) is computed in TypeScript
// (src/eval/schedule.ts); each phase starts with a fresh optimiser, as the published code builds
// a new one at the decay (its momentum buffer starts from zero).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <vector>

#include "augment/dsa.h"
#include "model/zoo.h"

namespace trajmatch::eval {

struct ZooPhase {
  int64_t epochs = 1;
  double lr = 0.01;
};

struct ZooTrainConfig {
  std::vector<ZooPhase> phases;
  double momentum = 0.9;
  double weightDecay = 5e-4;
  int64_t batchSize = 256;
  std::optional<augment::DsaConfig> dsa;
  uint64_t seed = 0;
};

// Test accuracy in [0, 1] of a fresh network trained on (images, labels).
double trainAndTest(const model::ZooSpec& spec, const torch::Tensor& images, const torch::Tensor& labels,
                    const torch::Tensor& testImages, const torch::Tensor& testLabels, const ZooTrainConfig& config);

}  // namespace trajmatch::eval
