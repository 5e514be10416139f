// Network initialisation, DSA, training epochs and evaluation passes.
#include "augment/dsa.h"
#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "core/device.h"
#include "core/dtype.h"
#include "eval/zoo_train.h"
#include "model/zoo.h"
#include "train/sgd.h"

namespace trajmatch::binding {

namespace {

Napi::Object statsObject(Napi::Env env, const train::PassStats& s) {
  auto out = Napi::Object::New(env);
  out.Set("loss", s.loss);
  out.Set("accuracy", s.accuracy);
  out.Set("count", static_cast<double>(s.count));
  return out;
}

// sync: convnetInit(spec, {seed, dtype?, device?}) -> Tensor with PyTorch's default initialisation
Napi::Value ConvNetInit(const Napi::CallbackInfo& info) {
  const model::ConvNet net(toConvNetSpec(argObject(info, 0, "convnet")));
  const auto opts = argObject(info, 1, "options");
  const auto dtype = parseDtype(getString(opts, "options", "dtype", "float32"));
  const auto device = parseDevice(getString(opts, "options", "device", "cpu"));
  return TensorHandle::Wrap(info.Env(), net.initParams(getSeed(opts, "options"), dtype, device));
}

// async: dsaApply(images, {strategy, seed, cotangent?}) -> Promise<{images, grad?}>
//   grad = d<dsa(images), cotangent>/d images, for checking differentiability.
Napi::Value DsaApply(const Napi::CallbackInfo& info) {
  const auto images = TensorHandle::TensorOf(info[0], "images");
  const auto opts = argObject(info, 1, "options");
  const auto config = augment::parseDsaStrategy(getString(opts, "options", "strategy", "color_crop_cutout_flip_scale_rotate"));
  const auto seed = getSeed(opts, "options");
  const bool withGrad = !opts.Get("cotangent").IsUndefined();
  const auto cotangent = withGrad ? getTensor(opts, "options", "cotangent") : torch::Tensor();
  auto out = std::make_shared<std::pair<torch::Tensor, torch::Tensor>>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.dsaApply",
      [=] {
        auto x = images.detach().requires_grad_(withGrad);
        auto y = augment::dsa(x, config, seed);
        if (withGrad) {
          TORCH_CHECK(cotangent.sizes() == y.sizes(), "cotangent must have shape ", y.sizes(), ", received ", cotangent.sizes());
          out->second = torch::autograd::grad({y}, {x}, {cotangent})[0];
        }
        out->first = y.detach();
      },
      [=](Napi::Env env) -> Napi::Value {
        auto result = Napi::Object::New(env);
        result.Set("images", TensorHandle::Wrap(env, out->first));
        if (out->second.defined()) result.Set("grad", TensorHandle::Wrap(env, out->second));
        return result;
      });
}

// async: trainEpoch(spec, {params, momentumBuffer?, images, labels, lr, momentum, weightDecay,
//   batchSize, dsa?: strategy string, seed}) -> Promise<{loss, accuracy, count}>; params (and the
//   momentum buffer) are updated in place.
Napi::Value TrainEpoch(const Napi::CallbackInfo& info) {
  auto net = std::make_shared<model::ConvNet>(toConvNetSpec(argObject(info, 0, "convnet")));
  const auto args = argObject(info, 1, "options");
  auto params = getTensor(args, "options", "params");
  auto buffer = args.Get("momentumBuffer").IsUndefined() ? torch::Tensor() : getTensor(args, "options", "momentumBuffer");
  const auto images = getTensor(args, "options", "images");
  const auto labels = getTensor(args, "options", "labels");
  train::SgdConfig config;
  config.lr = getNumber(args, "options", "lr");
  config.momentum = getNumber(args, "options", "momentum");
  config.weightDecay = getNumber(args, "options", "weightDecay");
  config.batchSize = getInt(args, "options", "batchSize");
  config.dsa = getDsa(args, "options");
  config.seed = getSeed(args, "options");
  auto stats = std::make_shared<train::PassStats>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.trainEpoch",
      [=]() mutable { *stats = train::trainEpoch(*net, params, buffer, images, labels, config); },
      [=](Napi::Env env) -> Napi::Value { return statsObject(env, *stats); });
}

// async: evaluate(spec, {params, images, labels, batchSize}) -> Promise<{loss, accuracy, count}>
Napi::Value Evaluate(const Napi::CallbackInfo& info) {
  auto net = std::make_shared<model::ConvNet>(toConvNetSpec(argObject(info, 0, "convnet")));
  const auto args = argObject(info, 1, "options");
  const auto params = getTensor(args, "options", "params");
  const auto images = getTensor(args, "options", "images");
  const auto labels = getTensor(args, "options", "labels");
  const auto batchSize = getInt(args, "options", "batchSize", 500);
  auto stats = std::make_shared<train::PassStats>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.evaluate", [=] { *stats = train::evaluate(*net, params, images, labels, batchSize); },
      [=](Napi::Env env) -> Napi::Value { return statsObject(env, *stats); });
}

// async: zooTrainTest({arch, channels, height, width, numClasses}, {images, labels, testImages,
//   testLabels, schedule: [{epochs, lr}], momentum, weightDecay, batchSize, dsa?, seed})
//   -> Promise<number> (test accuracy of a fresh network of that architecture trained on images).
Napi::Value ZooTrainTest(const Napi::CallbackInfo& info) {
  const auto s = argObject(info, 0, "network");
  model::ZooSpec spec;
  spec.arch = getString(s, "network", "arch", "");
  spec.channels = getInt(s, "network", "channels");
  spec.height = getInt(s, "network", "height");
  spec.width = getInt(s, "network", "width");
  spec.numClasses = getInt(s, "network", "numClasses");
  model::makeZooNet(spec);  // an unknown architecture or size fails here, on the JS thread
  const auto args = argObject(info, 1, "options");
  const auto images = getTensor(args, "options", "images");
  const auto labels = getTensor(args, "options", "labels");
  const auto testImages = getTensor(args, "options", "testImages");
  const auto testLabels = getTensor(args, "options", "testLabels");
  eval::ZooTrainConfig config;
  const auto schedule = args.Get("schedule");
  if (!schedule.IsArray()) throw Napi::TypeError::New(info.Env(), "options.schedule: expected an array of {epochs, lr}");
  const auto phases = schedule.As<Napi::Array>();
  for (uint32_t i = 0; i < phases.Length(); ++i) {
    const auto phase = phases.Get(i);
    if (!phase.IsObject()) throw Napi::TypeError::New(info.Env(), "options.schedule: expected an array of {epochs, lr}");
    const auto p = phase.As<Napi::Object>();
    eval::ZooPhase step;
    step.epochs = getInt(p, "options.schedule[]", "epochs");
    step.lr = getNumber(p, "options.schedule[]", "lr");
    config.phases.push_back(step);
  }
  config.momentum = getNumber(args, "options", "momentum");
  config.weightDecay = getNumber(args, "options", "weightDecay");
  config.batchSize = getInt(args, "options", "batchSize");
  config.dsa = getDsa(args, "options");
  config.seed = getSeed(args, "options");
  auto accuracy = std::make_shared<double>(0);
  return PromiseWorker::Run(
      info.Env(), "trajmatch.zooTrainTest",
      [=] { *accuracy = eval::trainAndTest(spec, images, labels, testImages, testLabels, config); },
      [=](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *accuracy); });
}

}  // namespace

void RegisterTrain(Napi::Env env, Napi::Object exports) {
  exports.Set("convnetInit", Napi::Function::New(env, guarded<ConvNetInit>, "convnetInit"));
  exports.Set("dsaApply", Napi::Function::New(env, guarded<DsaApply>, "dsaApply"));
  exports.Set("trainEpoch", Napi::Function::New(env, guarded<TrainEpoch>, "trainEpoch"));
  exports.Set("evaluate", Napi::Function::New(env, guarded<Evaluate>, "evaluate"));
  exports.Set("zooTrainTest", Napi::Function::New(env, guarded<ZooTrainTest>, "zooTrainTest"));
}

}  // namespace trajmatch::binding
