#include "model/convnet.h"

#include <cmath>
#include <stdexcept>

#include "core/seed.h"

namespace trajmatch::model {

namespace {

template <typename E, size_t N>
E parseName(const std::string& what, const std::string& name, const std::pair<const char*, E> (&names)[N]) {
  std::string accepted;
  for (const auto& [n, e] : names) {
    if (name == n) return e;
    accepted += accepted.empty() ? n : std::string(", ") + n;
  }
  throw std::invalid_argument("unknown " + what + " '" + name + "': expected one of " + accepted);
}

std::string sizeText(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

}  // namespace

Norm parseNorm(const std::string& name) {
  static const std::pair<const char*, Norm> names[] = {{"instance", Norm::Instance},
                                                       {"batch", Norm::Batch},
                                                       {"layer", Norm::Layer},
                                                       {"group", Norm::Group},
                                                       {"none", Norm::None}};
  return parseName("norm", name, names);
}

Activation parseActivation(const std::string& name) {
  static const std::pair<const char*, Activation> names[] = {
      {"relu", Activation::ReLU}, {"sigmoid", Activation::Sigmoid}, {"leakyrelu", Activation::LeakyReLU}};
  return parseName("activation", name, names);
}

Pooling parsePooling(const std::string& name) {
  static const std::pair<const char*, Pooling> names[] = {
      {"avg", Pooling::Avg}, {"max", Pooling::Max}, {"none", Pooling::None}};
  return parseName("pooling", name, names);
}

void ConvNet::add(const std::string& name, std::vector<int64_t> shape) {
  int64_t numel = 1;
  for (auto s : shape) numel *= s;
  layout_.push_back({name, std::move(shape), numParams_, numel});
  numParams_ += numel;
}

ConvNet::ConvNet(const ConvNetSpec& spec) : spec_(spec) {
  const auto positive = [](const char* what, int64_t v) {
    if (v < 1)
      throw std::invalid_argument(std::string("ConvNet: ") + what + " must be a positive integer, received " +
                                  std::to_string(v));
  };
  positive("channels", spec.channels);
  positive("height", spec.height);
  positive("width", spec.width);
  positive("numClasses", spec.numClasses);
  positive("netWidth", spec.netWidth);
  positive("depth", spec.depth);
  if (spec.norm == Norm::Group && spec.netWidth % 4 != 0) {
    throw std::invalid_argument("ConvNet: group norm uses 4 groups, so netWidth must be a multiple of 4, received " +
                                std::to_string(spec.netWidth));
  }

  int64_t c = spec.channels, h = spec.height, w = spec.width;
  for (int64_t d = 0; d < spec.depth; ++d) {
    Block block{};
    // The published ConvNet pads the first conv by 3 for single-channel input, so 28x28 MNIST
    // images become 32x32 feature maps like colour images.
    block.padding = (spec.channels == 1 && d == 0) ? 3 : 1;
    h = h + 2 * block.padding - 2;
    w = w + 2 * block.padding - 2;
    block.featH = h;
    block.featW = w;
    const std::string prefix = "features." + std::to_string(d) + ".";
    block.conv = layout_.size();
    add(prefix + "conv.weight", {spec.netWidth, c, 3, 3});
    add(prefix + "conv.bias", {spec.netWidth});
    block.norm = layout_.size();
    if (spec.norm == Norm::Layer) {
      add(prefix + "norm.weight", {spec.netWidth, h, w});
      add(prefix + "norm.bias", {spec.netWidth, h, w});
    } else if (spec.norm != Norm::None) {
      add(prefix + "norm.weight", {spec.netWidth});
      add(prefix + "norm.bias", {spec.netWidth});
    }
    c = spec.netWidth;
    if (spec.pooling != Pooling::None) {
      if (h < 2 || w < 2) {
        throw std::invalid_argument("ConvNet: depth " + std::to_string(spec.depth) + " pools a " +
                                    sizeText(spec.height, spec.width) + " image below one pixel at block " +
                                    std::to_string(d + 1) + "; use a smaller depth or larger images");
      }
      h /= 2;
      w /= 2;
    }
    blocks_.push_back(block);
  }
  classifier_ = layout_.size();
  add("classifier.weight", {spec.numClasses, c * h * w});
  add("classifier.bias", {spec.numClasses});
}

torch::Tensor ConvNet::initParams(uint64_t seed, torch::ScalarType dtype, const torch::Device& device) const {
  auto gen = cpuGenerator(seed);
  auto flat = torch::empty({numParams_}, torch::kFloat64);
  const auto fill = [&](size_t i, double bound) {
    flat.narrow(0, layout_[i].offset, layout_[i].numel).uniform_(-bound, bound, gen);
  };
  const auto constant = [&](size_t i, double value) {
    flat.narrow(0, layout_[i].offset, layout_[i].numel).fill_(value);
  };
  const auto fanIn = [&](size_t weight) {
    const auto& shape = layout_[weight].shape;
    int64_t f = 1;
    for (size_t d = 1; d < shape.size(); ++d) f *= shape[d];
    return static_cast<double>(f);
  };
  for (const auto& block : blocks_) {
    const double bound = 1.0 / std::sqrt(fanIn(block.conv));
    fill(block.conv, bound);
    fill(block.conv + 1, bound);
    if (spec_.norm != Norm::None) {
      constant(block.norm, 1.0);
      constant(block.norm + 1, 0.0);
    }
  }
  const double bound = 1.0 / std::sqrt(fanIn(classifier_));
  fill(classifier_, bound);
  fill(classifier_ + 1, bound);
  return flat.to(torch::TensorOptions().dtype(dtype).device(device));
}

torch::Tensor ConvNet::forward(const torch::Tensor& images, const torch::Tensor& flat) const {
  TORCH_CHECK(flat.dim() == 1 && flat.numel() == numParams_, "ConvNet: the parameter vector must have shape [",
              numParams_, "], received ", flat.sizes());
  TORCH_CHECK(images.dim() == 4 && images.size(1) == spec_.channels && images.size(2) == spec_.height &&
                  images.size(3) == spec_.width,
              "ConvNet: images must have shape [N, ", spec_.channels, ", ", spec_.height, ", ", spec_.width,
              "], received ", images.sizes());
  TORCH_CHECK(images.scalar_type() == flat.scalar_type(), "ConvNet: images are ", images.scalar_type(),
              " but parameters are ", flat.scalar_type());
  TORCH_CHECK(images.device() == flat.device(), "ConvNet: images are on ", images.device(), " but parameters are on ",
              flat.device());

  const auto view = [&](size_t i) {
    const auto& p = layout_[i];
    return flat.narrow(0, p.offset, p.numel).view(p.shape);
  };
  torch::Tensor x = images;
  for (const auto& block : blocks_) {
    x = torch::conv2d(x, view(block.conv), view(block.conv + 1), /*stride=*/1, block.padding);
    switch (spec_.norm) {
      case Norm::Instance:  // group norm with one group per channel, as the published ConvNet
        x = torch::group_norm(x, spec_.netWidth, view(block.norm), view(block.norm + 1), 1e-5);
        break;
      case Norm::Group: x = torch::group_norm(x, 4, view(block.norm), view(block.norm + 1), 1e-5); break;
      case Norm::Layer:
        x = torch::layer_norm(x, {spec_.netWidth, block.featH, block.featW}, view(block.norm), view(block.norm + 1),
                              1e-5);
        break;
      case Norm::Batch:
        x = torch::batch_norm(x, view(block.norm), view(block.norm + 1), /*running_mean=*/{}, /*running_var=*/{},
                              /*training=*/true, /*momentum=*/0.1, /*eps=*/1e-5, /*cudnn_enabled=*/true);
        break;
      case Norm::None: break;
    }
    switch (spec_.activation) {
      case Activation::ReLU: x = torch::relu(x); break;
      case Activation::Sigmoid: x = torch::sigmoid(x); break;
      case Activation::LeakyReLU: x = torch::leaky_relu(x, 0.01); break;
    }
    switch (spec_.pooling) {
      case Pooling::Avg: x = torch::avg_pool2d(x, 2, 2); break;
      case Pooling::Max: x = torch::max_pool2d(x, 2, 2); break;
      case Pooling::None: break;
    }
  }
  return torch::linear(x.flatten(1), view(classifier_), view(classifier_ + 1));
}

}  // namespace trajmatch::model
