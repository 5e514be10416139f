#include "distill/match.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/seed.h"
#include "train/loss.h"

namespace trajmatch::distill {

GradMethod parseGradMethod(const std::string& name) {
  if (name == "unroll") return GradMethod::Unroll;
  if (name == "tesla") return GradMethod::Tesla;
  if (name == "adjoint") return GradMethod::Adjoint;
  throw std::invalid_argument("unknown gradient method '" + name + "': expected unroll, tesla or adjoint");
}

namespace {

void checkInputs(const model::ConvNet& net, const MatchInputs& in) {
  TORCH_CHECK(in.synSteps >= 1, "synSteps must be at least 1, received ", in.synSteps);
  TORCH_CHECK(in.images.is_floating_point(), "images must be floating point, received ", in.images.scalar_type());
  TORCH_CHECK(in.images.dim() == 4 && in.images.size(0) > 0,
              "images must be a non-empty [S, C, H, W] tensor, received ", in.images.sizes());
  const auto& spec = net.spec();
  TORCH_CHECK(in.images.size(1) == spec.channels && in.images.size(2) == spec.height && in.images.size(3) == spec.width,
              "images must have shape [S, ", spec.channels, ", ", spec.height, ", ", spec.width,
              "] (the network's input), received ", in.images.sizes());
  train::checkLabels(in.labels, in.images.size(0), net.spec().numClasses, "labels");
  TORCH_CHECK(in.batchSyn >= 0 && in.batchSyn <= in.images.size(0), "batchSyn must lie in [1, ", in.images.size(0),
              "] (0 for all), received ", in.batchSyn);
  for (const auto* t : {&in.start, &in.target}) {
    const char* name = t == &in.start ? "start" : "target";
    TORCH_CHECK(t->dim() == 1 && t->numel() == net.numParams(), name, " must have shape [", net.numParams(),
                "] (the network's parameter count), received ", t->sizes());
    TORCH_CHECK(t->scalar_type() == in.images.scalar_type(), name, " is ", t->scalar_type(), " but images are ",
                in.images.scalar_type());
    TORCH_CHECK(t->device() == in.images.device(), name, " is on ", t->device(), " but images are on ",
                in.images.device());
  }
  TORCH_CHECK(in.labels.device() == in.images.device(), "labels are on ", in.labels.device(), " but images are on ",
              in.images.device());
  // The loss divides by ||start - target||^2: the same point would give Infinity or NaN, not an error.
  const double span = (in.start.detach() - in.target.detach()).pow(2).sum().item<double>();
  TORCH_CHECK(span > 0 && std::isfinite(span), "start and target must be different points of the trajectory ",
              "(||start - target||^2 is ", span, "): the matching loss is normalised by that distance");
}

// What step n sees: which synthetic images, and how they are augmented. Drawn once per
// iteration so that every recompute replays exactly the same step.
struct StepPlan {
  torch::Tensor indices;  // on the images' device
  std::optional<augment::DsaDraw> augment;
};

std::vector<StepPlan> planSteps(const MatchInputs& in) {
  const auto s = in.images.size(0);
  const auto batch = in.batchSyn == 0 ? s : in.batchSyn;
  auto gen = cpuGenerator(in.seed);
  std::vector<StepPlan> plan;
  std::vector<torch::Tensor> chunks;
  for (int64_t n = 0; n < in.synSteps; ++n) {
    // A fresh permutation of S in chunks of batch_syn, taken from the back as the published loop's
    // indices_chunks.pop() does: the remainder chunk (when batch_syn does not divide S) comes first.
    if (chunks.empty()) chunks = torch::randperm(s, gen, torch::TensorOptions().dtype(torch::kInt64)).split(batch);
    StepPlan step;
    step.indices = chunks.back().to(in.images.device());
    chunks.pop_back();
    if (in.dsa) {
      step.augment = augment::drawDsa(*in.dsa, step.indices.size(0), in.images.size(2), in.images.size(3),
                                      deriveSeed(in.seed, static_cast<uint64_t>(n) + 1), in.images.options());
    }
    plan.push_back(std::move(step));
  }
  return plan;
}

// Cross-entropy of the student at w on step n's (augmented) minibatch of X.
torch::Tensor stepLoss(const model::ConvNet& net, const MatchInputs& in, const StepPlan& step,
                       const torch::Tensor& images, const torch::Tensor& w) {
  auto x = images.index_select(0, step.indices);
  if (step.augment) x = augment::applyDsa(x, *step.augment, *in.dsa);
  return train::crossEntropy(net.forward(x, w), in.labels.index_select(0, step.indices));
}

MatchResult unroll(const model::ConvNet& net, const MatchInputs& in, const std::vector<StepPlan>& plan) {
  auto images = in.images.detach().requires_grad_(true);
  auto lr = torch::full({}, in.lr, in.images.options()).requires_grad_(true);
  const auto start = in.start.detach();
  const auto target = in.target.detach();
  torch::Tensor w = start.clone().requires_grad_(true);
  for (const auto& step : plan) {
    const auto g = torch::autograd::grad({stepLoss(net, in, step, images, w)}, {w}, {}, /*retain_graph=*/true,
                                         /*create_graph=*/true)[0];
    w = w - lr * g;
  }
  const auto loss = (w - target).pow(2).sum() / (start - target).pow(2).sum();
  const auto grads = torch::autograd::grad({loss}, {images, lr});
  return {loss.detach(), grads[0].detach(), grads[1].detach()};
}

// The forward pass of tesla and adjoint: detached steps, keeping w_{n-1} of each step.
struct DetachedForward {
  std::vector<torch::Tensor> weights;  // w_0 .. w_{N-1}
  torch::Tensor gradSum;               // G = sum of g_n
  torch::Tensor last;                  // w_N
};

DetachedForward detachedForward(const model::ConvNet& net, const MatchInputs& in, const std::vector<StepPlan>& plan) {
  DetachedForward f;
  const auto images = in.images.detach();
  auto w = in.start.detach().clone();
  f.gradSum = torch::zeros_like(w);
  for (const auto& step : plan) {
    f.weights.push_back(w);
    auto wg = w.detach().requires_grad_(true);
    const auto g = torch::autograd::grad({stepLoss(net, in, step, images, wg)}, {wg})[0];
    f.gradSum += g;
    w = w - in.lr * g;
  }
  f.last = w;
  return f;
}

MatchResult tesla(const model::ConvNet& net, const MatchInputs& in, const std::vector<StepPlan>& plan) {
  const auto f = detachedForward(net, in, plan);
  const auto start = in.start.detach();
  const auto target = in.target.detach();
  const auto denom = (start - target).pow(2).sum();
  const auto residual = f.last - target;  // w_N - target = start - alpha G - target
  const auto loss = residual.pow(2).sum() / denom;
  // dL/dG = (2 / D) (alpha (target - start) + alpha^2 G), held constant while each g_n is
  // recomputed with its w_{n-1} frozen: dL/dX = sum_n d/dX [bracket . g_n(w_{n-1}, X)].
  const auto bracket = (2.0 / denom) * (in.lr * (target - start) + in.lr * in.lr * f.gradSum);
  auto gradImages = torch::zeros_like(in.images);
  for (size_t n = 0; n < plan.size(); ++n) {
    auto images = in.images.detach().requires_grad_(true);
    auto w = f.weights[n].detach().requires_grad_(true);
    const auto g = torch::autograd::grad({stepLoss(net, in, plan[n], images, w)}, {w}, {}, true, true)[0];
    gradImages += torch::autograd::grad({(g * bracket).sum()}, {images})[0];
  }
  // dL/dalpha of L(alpha) = ||start - alpha G - target||^2 / D with G held constant.
  const auto gradLr = -2.0 * (residual * f.gradSum).sum() / denom;
  return {loss, gradImages, gradLr};
}

MatchResult adjoint(const model::ConvNet& net, const MatchInputs& in, const std::vector<StepPlan>& plan) {
  const auto f = detachedForward(net, in, plan);
  const auto target = in.target.detach();
  const auto denom = (in.start.detach() - target).pow(2).sum();
  const auto loss = (f.last - target).pow(2).sum() / denom;
  auto lambda = 2.0 * (f.last - target) / denom;  // dL/dw_N
  auto gradImages = torch::zeros_like(in.images);
  auto gradLr = torch::zeros({}, in.images.options());
  for (size_t k = plan.size(); k-- > 0;) {
    auto images = in.images.detach().requires_grad_(true);
    auto w = f.weights[k].detach().requires_grad_(true);
    const auto g = torch::autograd::grad({stepLoss(net, in, plan[k], images, w)}, {w}, {}, true, true)[0];
    const auto s = (g * lambda).sum();  // g_n . lambda
    const auto vjp = torch::autograd::grad({s}, {images, w});
    gradImages -= in.lr * vjp[0];
    gradLr -= s.detach();
    lambda = lambda - in.lr * vjp[1];  // lambda_{n-1} = lambda_n - alpha H_n lambda_n
  }
  return {loss, gradImages, gradLr};
}

}  // namespace

MatchResult matchIteration(const model::ConvNet& net, const MatchInputs& in) {
  checkInputs(net, in);
  torch::AutoGradMode gradMode(true);
  const auto plan = planSteps(in);
  switch (in.method) {
    case GradMethod::Tesla: return tesla(net, in, plan);
    case GradMethod::Adjoint: return adjoint(net, in, plan);
    case GradMethod::Unroll: break;
  }
  return unroll(net, in, plan);
}

}  // namespace trajmatch::distill
