#include "eval/zoo_train.h"

#include <mutex>

#include "core/seed.h"

namespace trajmatch::eval {

double trainAndTest(const model::ZooSpec& spec, const torch::Tensor& images, const torch::Tensor& labels,
                    const torch::Tensor& testImages, const torch::Tensor& testLabels, const ZooTrainConfig& config) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == spec.channels && images.size(2) == spec.height &&
                  images.size(3) == spec.width,
              spec.arch, ": images must have shape [N, ", spec.channels, ", ", spec.height, ", ", spec.width, "], received ",
              images.sizes());
  TORCH_CHECK(labels.dim() == 1 && labels.scalar_type() == torch::kInt64 && labels.size(0) == images.size(0),
              "labels must be int64 [", images.size(0), "], received ", labels.scalar_type(), " ", labels.sizes());
  TORCH_CHECK(testImages.size(0) == testLabels.size(0) && testImages.size(0) > 0, "the test split is empty or mismatched");
  TORCH_CHECK(config.epochs >= 1 && config.batchSize >= 1, "epochs and batchSize must be positive");

  // libtorch's module initialisation draws from the global generator: seed it, one network at a time.
  static std::mutex initLock;
  torch::nn::AnyModule net;
  {
    std::lock_guard<std::mutex> guard(initLock);
    torch::manual_seed(config.seed);
    net = model::makeZooNet(spec);
  }
  auto module = net.ptr();
  module->to(images.device(), images.scalar_type());
  torch::optim::SGD optimizer(module->parameters(),
                              torch::optim::SGDOptions(config.lr).momentum(config.momentum).weight_decay(config.weightDecay));

  torch::AutoGradMode gradMode(true);
  module->train();
  const auto n = images.size(0);
  for (int64_t epoch = 0; epoch < config.epochs; ++epoch) {
    if (epoch == config.epochs / 2) {
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(config.lr * 0.1);
    }
    auto gen = cpuGenerator(deriveSeed(config.seed, static_cast<uint64_t>(epoch)));
    const auto order = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64)).to(images.device());
    int64_t batch = 0;
    for (int64_t start = 0; start < n; start += config.batchSize, ++batch) {
      const auto idx = order.narrow(0, start, std::min(config.batchSize, n - start));
      auto x = images.index_select(0, idx);
      if (config.dsa) x = augment::dsa(x, *config.dsa, deriveSeed(config.seed ^ 0x5a5a5a5aull, static_cast<uint64_t>(epoch * 100003 + batch)));
      optimizer.zero_grad();
      const auto loss = torch::nn::functional::cross_entropy(net.forward(x), labels.index_select(0, idx));
      loss.backward();
      optimizer.step();
    }
  }

  module->eval();
  torch::NoGradGuard noGrad;
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(testImages.device()));
  for (int64_t start = 0; start < testImages.size(0); start += 500) {
    const auto count = std::min<int64_t>(500, testImages.size(0) - start);
    const auto logits = net.forward(testImages.narrow(0, start, count));
    correct += logits.argmax(1).eq(testLabels.narrow(0, start, count)).sum();
  }
  return static_cast<double>(correct.item<int64_t>()) / static_cast<double>(testImages.size(0));
}

}  // namespace trajmatch::eval
