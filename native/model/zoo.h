// The other architectures of cross-architecture evaluation, as the distillation literature builds
// them for 32x32 (and 28x28 single-channel) inputs: AlexNet, VGG11 (instance norm) and ResNet18
// (batch norm). They are only trained and tested on a fixed set, never differentiated through,
// so they are ordinary libtorch modules (batch norm with running statistics, train/eval modes).
#pragma once

#include <torch/torch.h>

#include <string>

namespace trajmatch::model {

struct ZooSpec {
  std::string arch;      // "alexnet" | "vgg11" | "resnet18"
  int64_t channels = 0;  // every field is set by the caller
  int64_t height = 0;
  int64_t width = 0;
  int64_t numClasses = 0;
};

// A module mapping images [N, C, H, W] to logits; throws std::invalid_argument for an unknown
// architecture or an input size it cannot take. Parameters are drawn from libtorch's default
// initialisation under the global seed the caller sets.
torch::nn::AnyModule makeZooNet(const ZooSpec& spec);

}  // namespace trajmatch::model
