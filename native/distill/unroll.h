// The student unroll of trajectory matching with exact gradients (MTT's method): N SGD steps of
// a functional network on the synthetic images, the normalised parameter-matching loss, and its
// gradient with respect to the pixels and the learnable learning rate through the whole graph.
#pragma once

#include <torch/torch.h>

#include "model/convnet.h"

namespace trajmatch::distill {

struct MatchInputs {
  torch::Tensor images;  // synthetic images X [N, C, H, W], floating point
  torch::Tensor labels;  // int64 class indices [N]
  torch::Tensor start;   // theta_start [P]
  torch::Tensor target;  // theta_target [P]
  double lr = 0.01;      // the student's learning rate alpha
  int64_t synSteps = 1;  // N unrolled SGD steps, each on all of X
};

struct MatchResult {
  torch::Tensor loss;        // 0-d: ||w_N - target||^2 / ||start - target||^2
  torch::Tensor gradImages;  // dL/dX, shaped like images
  torch::Tensor gradLr;      // 0-d: dL/dalpha
};

// Validates the inputs against the network (shapes, dtypes, devices, label range) and throws
// c10::Error / std::invalid_argument with a message naming the offending input.
MatchResult unrollMatch(const model::ConvNet& net, const MatchInputs& in);

}  // namespace trajmatch::distill
