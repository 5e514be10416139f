#include "model/zoo.h"

#include <stdexcept>
#include <vector>

namespace trajmatch::model {

namespace {

namespace nn = torch::nn;

// Spatial size after the feature extractor, checked so that a bad input size fails clearly.
int64_t pooled(int64_t size, int64_t pools, const std::string& arch) {
  for (int64_t i = 0; i < pools; ++i) size /= 2;
  if (size < 1) throw std::invalid_argument(arch + ": the images are too small for its pooling layers");
  return size;
}

// AlexNet as in the dataset-condensation code: five convs, three max-pools, one linear layer.
struct AlexNetImpl : nn::Module {
  nn::Sequential features{nullptr};
  nn::Linear classifier{nullptr};
  AlexNetImpl(const ZooSpec& s) {
    features = register_module(
        "features", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(s.channels, 128, 5).padding(s.channels == 1 ? 4 : 2)),
                                   nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)),
                                   nn::Conv2d(nn::Conv2dOptions(128, 192, 5).padding(2)), nn::ReLU(),
                                   nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)),
                                   nn::Conv2d(nn::Conv2dOptions(192, 256, 3).padding(1)), nn::ReLU(),
                                   nn::Conv2d(nn::Conv2dOptions(256, 192, 3).padding(1)), nn::ReLU(),
                                   nn::Conv2d(nn::Conv2dOptions(192, 192, 3).padding(1)), nn::ReLU(),
                                   nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2))));
    const int64_t pad = s.channels == 1 ? 4 : 2;
    const auto h = pooled(s.height + 2 * pad - 4, 3, "alexnet"), w = pooled(s.width + 2 * pad - 4, 3, "alexnet");
    classifier = register_module("classifier", nn::Linear(192 * h * w, s.numClasses));
  }
  torch::Tensor forward(torch::Tensor x) { return classifier(features->forward(x).flatten(1)); }
};
TORCH_MODULE(AlexNet);

// VGG11 with instance norm (group norm, one group per channel), as the literature's default VGG11.
struct Vgg11Impl : nn::Module {
  nn::Sequential features{nullptr};
  nn::Linear classifier{nullptr};
  Vgg11Impl(const ZooSpec& s) {
    const std::vector<int64_t> cfg = {64, -1, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1};
    nn::Sequential seq;
    int64_t in = s.channels, h = s.height, w = s.width, pools = 0;
    bool first = true;
    for (auto v : cfg) {
      if (v < 0) {
        seq->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
        ++pools;
        continue;
      }
      const int64_t pad = (s.channels == 1 && first) ? 3 : 1;
      if (first) {
        h += 2 * pad - 2;
        w += 2 * pad - 2;
      }
      seq->push_back(nn::Conv2d(nn::Conv2dOptions(in, v, 3).padding(pad)));
      seq->push_back(nn::GroupNorm(nn::GroupNormOptions(v, v).affine(true)));
      seq->push_back(nn::ReLU());
      in = v;
      first = false;
    }
    features = register_module("features", seq);
    const auto fh = pooled(h, pools, "vgg11"), fw = pooled(w, pools, "vgg11");
    classifier = register_module("classifier", nn::Linear(512 * fh * fw, s.numClasses));
  }
  torch::Tensor forward(torch::Tensor x) { return classifier(features->forward(x).flatten(1)); }
};
TORCH_MODULE(Vgg11);

struct BasicBlockImpl : nn::Module {
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  nn::Sequential shortcut{nullptr};
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm2d(out));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).stride(1).padding(1).bias(false)));
    bn2 = register_module("bn2", nn::BatchNorm2d(out));
    shortcut = register_module("shortcut", nn::Sequential());
    if (stride != 1 || in != out) {
      shortcut->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
      shortcut->push_back(nn::BatchNorm2d(out));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    auto out = torch::relu(bn1(conv1(x)));
    out = bn2(conv2(out));
    return torch::relu(out + (shortcut->is_empty() ? x : shortcut->forward(x)));
  }
};
TORCH_MODULE(BasicBlock);

// ResNet18 with batch norm for small images: a 3x3 stem without pooling, four stages of two
// basic blocks (64, 128, 256, 512 channels; strides 1, 2, 2, 2), global average pooling.
struct ResNet18Impl : nn::Module {
  nn::Conv2d conv1{nullptr};
  nn::BatchNorm2d bn1{nullptr};
  nn::Sequential layers{nullptr};
  nn::Linear classifier{nullptr};
  ResNet18Impl(const ZooSpec& s) {
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(s.channels, 64, 3).stride(1).padding(1).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm2d(64));
    nn::Sequential seq;
    int64_t in = 64;
    const int64_t widths[] = {64, 128, 256, 512}, strides[] = {1, 2, 2, 2};
    for (int i = 0; i < 4; ++i) {
      seq->push_back(BasicBlock(in, widths[i], strides[i]));
      seq->push_back(BasicBlock(widths[i], widths[i], 1));
      in = widths[i];
    }
    pooled(s.height, 3, "resnet18");
    pooled(s.width, 3, "resnet18");
    layers = register_module("layers", seq);
    classifier = register_module("classifier", nn::Linear(512, s.numClasses));
  }
  torch::Tensor forward(torch::Tensor x) {
    auto out = layers->forward(torch::relu(bn1(conv1(x))));
    return classifier(torch::adaptive_avg_pool2d(out, {1, 1}).flatten(1));
  }
};
TORCH_MODULE(ResNet18);

}  // namespace

torch::nn::AnyModule makeZooNet(const ZooSpec& spec) {
  if (spec.channels < 1 || spec.height < 1 || spec.width < 1 || spec.numClasses < 1) {
    throw std::invalid_argument(spec.arch + ": channels, image size and classes must be positive");
  }
  if (spec.arch == "alexnet") return torch::nn::AnyModule(AlexNet(spec));
  if (spec.arch == "vgg11") return torch::nn::AnyModule(Vgg11(spec));
  if (spec.arch == "resnet18") return torch::nn::AnyModule(ResNet18(spec));
  throw std::invalid_argument("unknown architecture '" + spec.arch + "': expected convnet, alexnet, vgg11 or resnet18");
}

}  // namespace trajmatch::model
