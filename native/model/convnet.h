// The ConvNet of the dataset-distillation literature in functional form: every parameter lives in
// one flat vector, viewed into the layer tensors on each forward pass, so that the student's
// parameters after N unrolled SGD steps stay a differentiable function of the synthetic pixels.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace trajmatch::model {

enum class Norm { None, Instance, Batch, Layer, Group };
enum class Activation { ReLU, Sigmoid, LeakyReLU };
enum class Pooling { Avg, Max, None };

// Names as TypeScript spells them; each throws std::invalid_argument listing the accepted names.
Norm parseNorm(const std::string& name);
Activation parseActivation(const std::string& name);
Pooling parsePooling(const std::string& name);

// Every field is set by the caller: the defaults (published: width 128, depth 3, instance norm,
// ReLU, average pooling) live in TypeScript (src/model/convnet.ts).
struct ConvNetSpec {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t numClasses = 0;
  int64_t netWidth = 0;
  int64_t depth = 0;
  Norm norm = Norm::None;
  Activation activation = Activation::ReLU;
  Pooling pooling = Pooling::None;
};

// One tensor of the flat parameter vector.
struct ParamTensor {
  std::string name;  // e.g. "features.0.conv.weight"
  std::vector<int64_t> shape;
  int64_t offset;  // first element in the flat vector
  int64_t numel;
};

class ConvNet {
 public:
  // Throws std::invalid_argument when the spec is inconsistent (non-positive sizes, a feature map
  // pooled below one pixel, group norm on a width that is not a multiple of 4).
  explicit ConvNet(const ConvNetSpec& spec);

  const ConvNetSpec& spec() const { return spec_; }
  const std::vector<ParamTensor>& layout() const { return layout_; }
  int64_t numParams() const { return numParams_; }

  // A fresh parameter vector with PyTorch's default initialisation of each layer: conv and linear
  // weights Kaiming-uniform with a = sqrt(5) (bound 1/sqrt(fan_in)), biases uniform in
  // +-1/sqrt(fan_in), norm scales 1 and shifts 0. Drawn on the CPU from `seed`, so the same seed
  // gives the same network on every device.
  torch::Tensor initParams(uint64_t seed, torch::ScalarType dtype, const torch::Device& device) const;

  // Logits [N, numClasses] for images [N, channels, height, width]; flat is [numParams()].
  // Norm layers use the statistics of the batch (the student always runs in training mode).
  torch::Tensor forward(const torch::Tensor& images, const torch::Tensor& flat) const;

 private:
  struct Block {
    int64_t padding;
    int64_t featH, featW;  // feature map size after the conv
    size_t conv, norm;     // indices into layout_ of the weight (bias follows)
  };
  void add(const std::string& name, std::vector<int64_t> shape);

  ConvNetSpec spec_;
  std::vector<ParamTensor> layout_;
  std::vector<Block> blocks_;
  size_t classifier_ = 0;
  int64_t numParams_ = 0;
};

}  // namespace trajmatch::model
