#include "train/sgd.h"

#include "core/seed.h"
#include "train/loss.h"

namespace trajmatch::train {

namespace {

void checkData(const model::ConvNet& net, const torch::Tensor& params, const torch::Tensor& images,
               const torch::Tensor& labels, int64_t batchSize) {
  TORCH_CHECK(batchSize >= 1, "batchSize must be at least 1, received ", batchSize);
  TORCH_CHECK(images.dim() == 4 && images.size(0) > 0, "images must be a non-empty [N, C, H, W] tensor, received ",
              images.sizes());
  checkLabels(labels, images.size(0), net.spec().numClasses, "labels");
  TORCH_CHECK(params.dim() == 1 && params.numel() == net.numParams(), "params must have shape [", net.numParams(),
              "], received ", params.sizes());
  TORCH_CHECK(images.device() == params.device() && labels.device() == params.device(),
              "images, labels and params must be on one device, received ", images.device(), ", ", labels.device(),
              " and ", params.device());
}

}  // namespace

PassStats trainEpoch(const model::ConvNet& net, torch::Tensor& params, torch::Tensor& momentumBuffer,
                     const torch::Tensor& images, const torch::Tensor& labels, const SgdConfig& config) {
  checkData(net, params, images, labels, config.batchSize);
  TORCH_CHECK(params.is_floating_point(), "params must be floating point");
  if (config.momentum != 0) {
    TORCH_CHECK(momentumBuffer.defined() && momentumBuffer.sizes() == params.sizes(),
                "a momentum buffer shaped like params is needed when momentum is ", config.momentum);
  }
  torch::AutoGradMode gradMode(true);
  const auto n = images.size(0);
  auto gen = cpuGenerator(config.seed);
  const auto order = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64)).to(images.device());

  // w shares params' storage: the in-place updates below are the result.
  auto w = params.detach().requires_grad_(true);
  auto lossSum = torch::zeros({}, params.options().requires_grad(false));
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(params.device()));
  int64_t batch = 0;
  for (int64_t start = 0; start < n; start += config.batchSize, ++batch) {
    const auto idx = order.narrow(0, start, std::min(config.batchSize, n - start));
    auto x = images.index_select(0, idx);
    const auto y = labels.index_select(0, idx);
    if (config.dsa) x = augment::dsa(x, *config.dsa, deriveSeed(config.seed, static_cast<uint64_t>(batch)));
    const auto logits = net.forward(x, w);
    const auto loss = crossEntropy(logits, y);
    auto grad = torch::autograd::grad({loss}, {w})[0];
    torch::NoGradGuard noGrad;
    lossSum += loss.detach() * static_cast<double>(idx.size(0));
    correct += logits.argmax(1).eq(labelClasses(y)).sum();
    if (config.weightDecay != 0) grad = grad + config.weightDecay * w.detach();
    if (config.momentum != 0) {
      momentumBuffer.mul_(config.momentum).add_(grad);
      grad = momentumBuffer;
    }
    w.sub_(grad * config.lr);
  }
  return {lossSum.item<double>() / static_cast<double>(n), static_cast<double>(correct.item<int64_t>()) / static_cast<double>(n), n};
}

PassStats evaluate(const model::ConvNet& net, const torch::Tensor& params, const torch::Tensor& images,
                   const torch::Tensor& labels, int64_t batchSize) {
  checkData(net, params, images, labels, batchSize);
  torch::NoGradGuard noGrad;
  const auto n = images.size(0);
  auto lossSum = torch::zeros({}, params.options());
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(params.device()));
  for (int64_t start = 0; start < n; start += batchSize) {
    const auto count = std::min(batchSize, n - start);
    const auto logits = net.forward(images.narrow(0, start, count), params);
    const auto y = labels.narrow(0, start, count);
    lossSum += crossEntropy(logits, y) * static_cast<double>(count);
    correct += logits.argmax(1).eq(labelClasses(y)).sum();
  }
  return {lossSum.item<double>() / static_cast<double>(n), static_cast<double>(correct.item<int64_t>()) / static_cast<double>(n), n};
}

}  // namespace trajmatch::train
