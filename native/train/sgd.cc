#include "train/sgd.h"

#include "core/seed.h"
#include "train/loss.h"

namespace trajmatch::train {

void sgdStep(torch::Tensor& param, const torch::Tensor& grad, torch::Tensor& buffer, double lr, double momentum,
             double weightDecay) {
  TORCH_CHECK(grad.sizes() == param.sizes() && (!buffer.defined() || buffer.sizes() == param.sizes()),
              "sgdStep: param ", param.sizes(), ", grad ", grad.sizes(), " and buffer ",
              buffer.defined() ? buffer.sizes() : c10::IntArrayRef{}, " must have one shape");
  torch::NoGradGuard noGrad;
  auto g = weightDecay != 0 ? grad + weightDecay * param : grad;
  if (momentum != 0) {
    TORCH_CHECK(buffer.defined() && buffer.sizes() == param.sizes(),
                "a momentum buffer shaped like params is needed when momentum is ", momentum);
    buffer.mul_(momentum).add_(g);
    g = buffer;
  }
  param.sub_(g * lr);
}

void checkData(const torch::Tensor& images, const torch::Tensor& labels, int64_t channels, int64_t height,
               int64_t width, int64_t numClasses, const torch::Device& device, int64_t batchSize) {
  TORCH_CHECK(batchSize >= 1, "batchSize must be at least 1, received ", batchSize);
  TORCH_CHECK(images.dim() == 4 && images.size(0) > 0, "images must be a non-empty [N, C, H, W] tensor, received ",
              images.sizes());
  TORCH_CHECK(images.size(1) == channels && images.size(2) == height && images.size(3) == width,
              "images must have shape [N, ", channels, ", ", height, ", ", width, "], received ", images.sizes());
  checkLabels(labels, images.size(0), numClasses, "labels");
  TORCH_CHECK(images.device() == device && labels.device() == device,
              "images, labels and the network must be on one device, received ", images.device(), ", ", labels.device(),
              " and ", device);
}

PassStats runEpoch(const torch::Tensor& images, const torch::Tensor& labels, const SgdConfig& config,
                   const BatchStep& step) {
  torch::AutoGradMode gradMode(true);
  const auto n = images.size(0);
  auto gen = cpuGenerator(config.seed);
  const auto order = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64)).to(images.device());
  auto lossSum = torch::zeros({}, images.options().requires_grad(false));
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(images.device()));
  int64_t batch = 0;
  for (int64_t start = 0; start < n; start += config.batchSize, ++batch) {
    const auto idx = order.narrow(0, start, std::min(config.batchSize, n - start));
    auto x = images.index_select(0, idx);
    const auto y = labels.index_select(0, idx);
    if (config.dsa) x = augment::dsa(x, *config.dsa, deriveSeed(config.seed, static_cast<uint64_t>(batch)));
    const auto [loss, logits] = step(x, y);
    torch::NoGradGuard noGrad;
    lossSum += loss.detach() * static_cast<double>(idx.size(0));
    correct += logits.argmax(1).eq(labelClasses(y)).sum();
  }
  return {lossSum.item<double>() / static_cast<double>(n),
          static_cast<double>(correct.item<int64_t>()) / static_cast<double>(n), n};
}

PassStats evaluatePass(const torch::Tensor& images, const torch::Tensor& labels, int64_t batchSize,
                       const std::function<torch::Tensor(const torch::Tensor&)>& forward) {
  torch::NoGradGuard noGrad;
  const auto n = images.size(0);
  auto lossSum = torch::zeros({}, images.options());
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(images.device()));
  for (int64_t start = 0; start < n; start += batchSize) {
    const auto count = std::min(batchSize, n - start);
    const auto logits = forward(images.narrow(0, start, count));
    const auto y = labels.narrow(0, start, count);
    lossSum += crossEntropy(logits, y) * static_cast<double>(count);
    correct += logits.argmax(1).eq(labelClasses(y)).sum();
  }
  return {lossSum.item<double>() / static_cast<double>(n),
          static_cast<double>(correct.item<int64_t>()) / static_cast<double>(n), n};
}

}  // namespace trajmatch::train
