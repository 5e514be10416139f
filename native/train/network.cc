#include "train/network.h"

#include <mutex>
#include <vector>

#include "train/loss.h"

namespace trajmatch::train {

namespace {

class ConvNetwork : public Network {
 public:
  ConvNetwork(const model::ConvNetSpec& spec, torch::Tensor params, torch::Tensor buffer, bool ownsBuffer)
      : net_(spec), params_(std::move(params)), buffer_(std::move(buffer)), ownsBuffer_(ownsBuffer) {
    TORCH_CHECK(params_.dim() == 1 && params_.numel() == net_.numParams(), "params must have shape [", net_.numParams(),
                "], received ", params_.sizes());
    TORCH_CHECK(params_.is_floating_point(), "params must be floating point");
    TORCH_CHECK(!buffer_.defined() || buffer_.sizes() == params_.sizes(), "the momentum buffer must have shape [",
                net_.numParams(), "], received ", buffer_.sizes());
  }

  PassStats trainEpoch(const torch::Tensor& images, const torch::Tensor& labels, const SgdConfig& config) override {
    check(images, labels, config.batchSize);
    if (config.momentum != 0 && !buffer_.defined()) {
      TORCH_CHECK(ownsBuffer_, "a momentum buffer shaped like params is needed when momentum is ", config.momentum);
      buffer_ = torch::zeros_like(params_);
    }
    // w shares params' storage: the in-place updates of the steps are the result.
    auto w = params_.detach().requires_grad_(true);
    return runEpoch(images, labels, config, [&](const torch::Tensor& x, const torch::Tensor& y) {
      const auto logits = net_.forward(x, w);
      const auto loss = crossEntropy(logits, y);
      const auto grad = torch::autograd::grad({loss}, {w})[0];
      sgdStep(w, grad, buffer_, config.lr, config.momentum, config.weightDecay);
      return std::make_pair(loss, logits);
    });
  }

  PassStats evaluate(const torch::Tensor& images, const torch::Tensor& labels, int64_t batchSize) override {
    check(images, labels, batchSize);
    return evaluatePass(images, labels, batchSize, [&](const torch::Tensor& x) { return net_.forward(x, params_); });
  }

  void resetMomentum() override {
    if (buffer_.defined()) buffer_.zero_();
  }

  torch::Tensor parameters() const override { return params_.detach().clone(); }
  int64_t numParams() const override { return net_.numParams(); }

 private:
  void check(const torch::Tensor& images, const torch::Tensor& labels, int64_t batchSize) const {
    const auto& s = net_.spec();
    checkData(images, labels, s.channels, s.height, s.width, s.numClasses, params_.device(), batchSize);
  }

  model::ConvNet net_;
  torch::Tensor params_;
  torch::Tensor buffer_;
  bool ownsBuffer_;
};

class ZooNetwork : public Network {
 public:
  ZooNetwork(const model::ZooSpec& spec, uint64_t seed, torch::ScalarType dtype, const torch::Device& device)
      : spec_(spec), device_(device) {
    // libtorch's module initialisation draws from the global generator: seed it, one network at a time.
    static std::mutex initLock;
    {
      std::lock_guard<std::mutex> guard(initLock);
      torch::manual_seed(seed);
      net_ = model::makeZooNet(spec);
    }
    net_.ptr()->to(device, dtype);
    params_ = net_.ptr()->parameters();
    buffers_.resize(params_.size());
  }

  PassStats trainEpoch(const torch::Tensor& images, const torch::Tensor& labels, const SgdConfig& config) override {
    check(images, labels, config.batchSize);
    net_.ptr()->train();
    if (config.momentum != 0 && !buffers_.front().defined()) {
      for (size_t i = 0; i < params_.size(); ++i) buffers_[i] = torch::zeros_like(params_[i]);
    }
    return runEpoch(images, labels, config, [&](const torch::Tensor& x, const torch::Tensor& y) {
      const auto logits = net_.forward(x);
      const auto loss = crossEntropy(logits, y);
      const auto grads = torch::autograd::grad({loss}, params_);
      for (size_t i = 0; i < params_.size(); ++i) {
        sgdStep(params_[i], grads[i], buffers_[i], config.lr, config.momentum, config.weightDecay);
      }
      return std::make_pair(loss, logits);
    });
  }

  PassStats evaluate(const torch::Tensor& images, const torch::Tensor& labels, int64_t batchSize) override {
    check(images, labels, batchSize);
    net_.ptr()->eval();  // batch norm on its running statistics
    return evaluatePass(images, labels, batchSize, [&](const torch::Tensor& x) { return net_.forward(x); });
  }

  void resetMomentum() override {
    for (auto& b : buffers_) {
      if (b.defined()) b.zero_();
    }
  }

  torch::Tensor parameters() const override {
    std::vector<torch::Tensor> flat;
    for (const auto& p : params_) flat.push_back(p.detach().reshape({-1}));
    return torch::cat(flat);
  }

  int64_t numParams() const override {
    int64_t n = 0;
    for (const auto& p : params_) n += p.numel();
    return n;
  }

 private:
  void check(const torch::Tensor& images, const torch::Tensor& labels, int64_t batchSize) const {
    checkData(images, labels, spec_.channels, spec_.height, spec_.width, spec_.numClasses, device_, batchSize);
  }

  model::ZooSpec spec_;
  torch::Device device_;
  torch::nn::AnyModule net_;
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> buffers_;
};

}  // namespace

std::shared_ptr<Network> makeConvNetwork(const model::ConvNetSpec& spec, uint64_t seed, torch::ScalarType dtype,
                                         const torch::Device& device) {
  const model::ConvNet net(spec);
  return std::make_shared<ConvNetwork>(spec, net.initParams(seed, dtype, device), torch::Tensor(), true);
}

std::shared_ptr<Network> adoptConvNetwork(const model::ConvNetSpec& spec, torch::Tensor params,
                                          torch::Tensor momentumBuffer) {
  return std::make_shared<ConvNetwork>(spec, std::move(params), std::move(momentumBuffer), false);
}

std::shared_ptr<Network> makeZooNetwork(const model::ZooSpec& spec, uint64_t seed, torch::ScalarType dtype,
                                        const torch::Device& device) {
  return std::make_shared<ZooNetwork>(spec, seed, dtype, device);
}

}  // namespace trajmatch::train
