// A network the engine trains and tests epoch by epoch, whatever its architecture: the functional
// ConvNet on one flat parameter vector (the experts' and the evaluation's network), or a module
// of the zoo (AlexNet, VGG11, ResNet18; evaluation only). The evaluation protocol is one loop in
// TypeScript over this interface; each epoch runs train::runEpoch with train::sgdStep.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "model/convnet.h"
#include "model/zoo.h"
#include "train/sgd.h"

namespace trajmatch::train {

class Network {
 public:
  virtual ~Network() = default;

  // One epoch of minibatch SGD (train::runEpoch), parameters and momentum buffers updated in place.
  virtual PassStats trainEpoch(const torch::Tensor& images, const torch::Tensor& labels, const SgdConfig& config) = 0;
  // Mean loss and top-1 accuracy on a dataset, without gradients (zoo modules in eval mode).
  virtual PassStats evaluate(const torch::Tensor& images, const torch::Tensor& labels, int64_t batchSize) = 0;
  // Zeroes the momentum buffers, as a fresh optimiser would start them.
  virtual void resetMomentum() = 0;
  // A copy of every parameter, flattened into one vector in the network's own order.
  virtual torch::Tensor parameters() const = 0;
  virtual int64_t numParams() const = 0;
};

// A ConvNet with PyTorch's default initialisation drawn from `seed` (model::ConvNet::initParams).
std::shared_ptr<Network> makeConvNetwork(const model::ConvNetSpec& spec, uint64_t seed, torch::ScalarType dtype,
                                         const torch::Device& device);

// A ConvNet that trains the caller's tensors in place: `params` [P] and, when given (defined),
// `momentumBuffer` shaped like it; without one, only momentum 0 can be trained.
std::shared_ptr<Network> adoptConvNetwork(const model::ConvNetSpec& spec, torch::Tensor params,
                                          torch::Tensor momentumBuffer);

// A fresh module of the zoo, initialised by libtorch's defaults under `seed`.
std::shared_ptr<Network> makeZooNetwork(const model::ZooSpec& spec, uint64_t seed, torch::ScalarType dtype,
                                        const torch::Device& device);

}  // namespace trajmatch::train
