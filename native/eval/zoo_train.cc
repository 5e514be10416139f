#include "eval/zoo_train.h"

#include <mutex>

#include "core/seed.h"
#include "train/loss.h"

namespace trajmatch::eval {

double trainAndTest(const model::ZooSpec& spec, const torch::Tensor& images, const torch::Tensor& labels,
                    const torch::Tensor& testImages, const torch::Tensor& testLabels, const ZooTrainConfig& config) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == spec.channels && images.size(2) == spec.height &&
                  images.size(3) == spec.width,
              spec.arch, ": images must have shape [N, ", spec.channels, ", ", spec.height, ", ", spec.width, "], received ",
              images.sizes());
  train::checkLabels(labels, images.size(0), spec.numClasses, "labels");
  TORCH_CHECK(testImages.size(0) == testLabels.size(0) && testImages.size(0) > 0, "the test split is empty or mismatched");
  TORCH_CHECK(!config.phases.empty() && config.batchSize >= 1, "the schedule needs at least one phase and batchSize must be positive");
  for (const auto& phase : config.phases) {
    TORCH_CHECK(phase.epochs >= 1 && phase.lr > 0, "every phase of the schedule needs epochs >= 1 and lr > 0, received ",
                phase.epochs, " epochs at lr ", phase.lr);
  }

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

  torch::AutoGradMode gradMode(true);
  module->train();
  const auto n = images.size(0);
  int64_t epoch = 0;  // counts across phases: it seeds each epoch's shuffle and augmentations
  for (const auto& phase : config.phases) {
    torch::optim::SGD optimizer(module->parameters(),
                                torch::optim::SGDOptions(phase.lr).momentum(config.momentum).weight_decay(config.weightDecay));
    for (int64_t e = 0; e < phase.epochs; ++e, ++epoch) {
      auto gen = cpuGenerator(deriveSeed(config.seed, static_cast<uint64_t>(epoch)));
      const auto order = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64)).to(images.device());
      int64_t batch = 0;
      for (int64_t start = 0; start < n; start += config.batchSize, ++batch) {
        const auto idx = order.narrow(0, start, std::min(config.batchSize, n - start));
        auto x = images.index_select(0, idx);
        if (config.dsa) x = augment::dsa(x, *config.dsa, deriveSeed(config.seed ^ 0x5a5a5a5aull, static_cast<uint64_t>(epoch * 100003 + batch)));
        optimizer.zero_grad();
        const auto loss = train::crossEntropy(net.forward(x), labels.index_select(0, idx));
        loss.backward();
        optimizer.step();
      }
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
