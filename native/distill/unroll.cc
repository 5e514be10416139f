#include "distill/unroll.h"

#include <stdexcept>

namespace trajmatch::distill {

namespace {

void checkInputs(const model::ConvNet& net, const MatchInputs& in) {
  TORCH_CHECK(in.synSteps >= 1, "synSteps must be at least 1, received ", in.synSteps);
  TORCH_CHECK(in.images.is_floating_point(), "images must be floating point, received ", in.images.scalar_type());
  TORCH_CHECK(in.labels.dim() == 1 && in.labels.scalar_type() == torch::kInt64,
              "labels must be a 1-D int64 tensor, received ", in.labels.scalar_type(), " ", in.labels.sizes());
  TORCH_CHECK(in.images.dim() == 4 && in.images.size(0) == in.labels.size(0), "images ", in.images.sizes(),
              " and labels ", in.labels.sizes(), " must hold the same number of examples");
  for (const auto* t : {&in.start, &in.target}) {
    const char* name = t == &in.start ? "start" : "target";
    TORCH_CHECK(t->dim() == 1 && t->numel() == net.numParams(), name, " must have shape [", net.numParams(),
                "] (the network's parameter count), received ", t->sizes());
    TORCH_CHECK(t->scalar_type() == in.images.scalar_type(), name, " is ", t->scalar_type(), " but images are ",
                in.images.scalar_type());
    TORCH_CHECK(t->device() == in.images.device(), name, " is on ", t->device(), " but images are on ",
                in.images.device());
  }
  TORCH_CHECK(in.labels.device() == in.images.device(), "labels are on ", in.labels.device(),
              " but images are on ", in.images.device());
  if (in.labels.numel() > 0) {
    const auto lo = in.labels.min().item<int64_t>();
    const auto hi = in.labels.max().item<int64_t>();
    TORCH_CHECK(lo >= 0 && hi < net.spec().numClasses, "labels must lie in [0, ", net.spec().numClasses,
                "), found values from ", lo, " to ", hi);
  }
}

}  // namespace

MatchResult unrollMatch(const model::ConvNet& net, const MatchInputs& in) {
  checkInputs(net, in);
  torch::AutoGradMode gradMode(true);

  auto images = in.images.detach().requires_grad_(true);
  auto lr = torch::full({}, in.lr, in.images.options()).requires_grad_(true);
  const auto start = in.start.detach();
  const auto target = in.target.detach();

  // w_n = w_{n-1} - alpha * grad_w CE(f(X; w_{n-1}), y), keeping the graph of every step so that
  // the matching loss can be differentiated back to X through all of them.
  torch::Tensor w = start.clone().requires_grad_(true);
  for (int64_t n = 0; n < in.synSteps; ++n) {
    const auto ce = torch::nn::functional::cross_entropy(net.forward(images, w), in.labels);
    const auto g = torch::autograd::grad({ce}, {w}, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                         /*create_graph=*/true)[0];
    w = w - lr * g;
  }
  const auto loss = (w - target).pow(2).sum() / (start - target).pow(2).sum();
  const auto grads = torch::autograd::grad({loss}, {images, lr});
  return {loss.detach(), grads[0].detach(), grads[1].detach()};
}

}  // namespace trajmatch::distill
