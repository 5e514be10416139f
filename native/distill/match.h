// One distillation iteration of trajectory matching, in one call: N = syn_steps student SGD steps
// from theta_start on minibatches of the synthetic images (each augmented by DSA), with the
// learnable learning rate alpha; the normalised matching loss
//   L = ||w_N - theta_target||^2 / ||theta_start - theta_target||^2;
// and its gradients dL/dX and dL/dalpha by one of three methods:
//   unroll   the full graph of all N steps (MTT's method), exact; memory grows with N;
//   tesla    constant memory (Cui et al. 2023; what the published MCT code uses): the bracket
//            alpha (target - start) + alpha^2 G is held constant, which drops the dependence of
//            later steps on earlier pixels through w, an approximation of unroll;
//   adjoint  exact, by recomputing each step backwards with Hessian-vector products; memory of
//            one step's graph plus N parameter vectors.
// Minibatches walk random permutations of the synthetic set in chunks of batch_syn; the
// permutations and each step's augmentation come from `seed`, and every recompute replays them.
// Nothing is read back to the host inside the iteration.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "augment/dsa.h"
#include "model/convnet.h"

namespace trajmatch::distill {

enum class GradMethod { Unroll, Tesla, Adjoint };

// "unroll" | "tesla" | "adjoint"; throws std::invalid_argument naming the accepted methods.
GradMethod parseGradMethod(const std::string& name);

struct MatchInputs {
  torch::Tensor images;  // synthetic images X [S, C, H, W], floating point
  torch::Tensor labels;  // int64 class indices [S] (range checked where the set is made), or soft
                         // labels [S, numClasses]: class probabilities (TESLA's / MCT's teacher labels)
  torch::Tensor start;   // theta_start [P]
  torch::Tensor target;  // theta_target [P]
  double lr = 0.01;      // the student's learning rate alpha
  int64_t synSteps = 1;  // N
  int64_t batchSyn = 0;  // minibatch size; 0 means all of S
  std::optional<augment::DsaConfig> dsa;
  uint64_t seed = 0;
  GradMethod method = GradMethod::Unroll;
};

struct MatchResult {
  torch::Tensor loss;        // 0-d
  torch::Tensor gradImages;  // dL/dX, shaped like images
  torch::Tensor gradLr;      // 0-d dL/dalpha
};

// Validates shapes, dtypes and devices (not label values: that would read back to the host).
MatchResult matchIteration(const model::ConvNet& net, const MatchInputs& in);

}  // namespace trajmatch::distill
