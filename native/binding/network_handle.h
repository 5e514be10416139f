// A JS handle that owns a network of the engine (train::Network: the functional ConvNet or a
// module of the zoo) with its momentum buffers, so that the evaluation protocol and the expert
// training are loops in TypeScript that run one native call per epoch on any architecture.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "binding/in_flight.h"
#include "train/network.h"

namespace trajmatch::binding {

class NetworkHandle : public Napi::ObjectWrap<NetworkHandle> {
 public:
  // Registers the class (exported as `Network`; JS cannot construct it directly).
  static Napi::Function Init(Napi::Env env);
  // `adopted`: the caller's tensors the network trains in place (its params and momentum buffer),
  // marked in use while a call on the network runs.
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<train::Network> network, std::vector<TensorUse> adopted = {});
  // Handles created and not yet disposed or garbage-collected, for leak tests.
  static int64_t LiveCount() { return live_.load(); }

  explicit NetworkHandle(const Napi::CallbackInfo& info);
  ~NetworkHandle() override;

 private:
  // The network, for a call that runs on a worker: throws once disposed, or while another call
  // on this network is in flight (two epochs at once would race on the same parameters).
  std::shared_ptr<train::Network> Acquire(Napi::Env env, const char* method);
  // The network for a quick read; throws once disposed.
  const train::Network& Live(Napi::Env env, const char* what) const;
  void Release();

  Napi::Value GetNumParams(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);
  // async: trainEpoch({images, labels, lr, momentum, weightDecay, batchSize, dsa?, seed})
  //   -> Promise<{loss, accuracy, count}>; the parameters and momentum buffers are updated in place.
  Napi::Value TrainEpoch(const Napi::CallbackInfo& info);
  // async: evaluate({images, labels, batchSize}) -> Promise<{loss, accuracy, count}>
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  // sync: zeroes the momentum buffers.
  Napi::Value ResetMomentum(const Napi::CallbackInfo& info);
  // sync: a new Tensor with a copy of every parameter as one flat vector.
  Napi::Value Parameters(const Napi::CallbackInfo& info);
  // sync: frees the network now (a call in flight keeps it until it settles).
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // The adopted tensors as `method` uses them: written by a training call, read otherwise.
  std::vector<TensorUse> AdoptedUses(bool training) const;

  std::shared_ptr<train::Network> network_;
  std::vector<TensorUse> adopted_;
  bool busy_ = false;
  static std::atomic<int64_t> live_;
};

// async: createNetwork(spec, options) -> Promise<Network>
//   spec: {arch: 'convnet', channels, height, width, numClasses, netWidth, depth, norm, activation,
//          pooling} or {arch: 'alexnet' | 'vgg11' | 'resnet18', channels, height, width, numClasses}
//   options: {seed, dtype, device} for a fresh network, or (ConvNet only) {params, momentumBuffer?}
//          to train the caller's tensors in place.
Napi::Value CreateNetwork(const Napi::CallbackInfo& info);

}  // namespace trajmatch::binding
