// The functional ConvNet: its parameter layout, initialisation and forward pass.
#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "core/device.h"
#include "core/dtype.h"
#include "model/convnet.h"

namespace trajmatch::binding {

namespace {

// sync: convnetLayout(spec) -> {numParams, tensors: [{name, shape, offset, numel}]}
Napi::Value ConvNetLayout(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const model::ConvNet net(toConvNetSpec(argObject(info, 0, "convnet")));
  auto tensors = Napi::Array::New(env, net.layout().size());
  for (size_t i = 0; i < net.layout().size(); ++i) {
    const auto& p = net.layout()[i];
    auto t = Napi::Object::New(env);
    t.Set("name", p.name);
    t.Set("shape", fromShape(env, p.shape));
    t.Set("offset", static_cast<double>(p.offset));
    t.Set("numel", static_cast<double>(p.numel));
    tensors.Set(static_cast<uint32_t>(i), t);
  }
  auto out = Napi::Object::New(env);
  out.Set("numParams", static_cast<double>(net.numParams()));
  out.Set("tensors", tensors);
  return out;
}

// sync: convnetInit(spec, {seed, dtype, device}) -> Tensor with PyTorch's default initialisation
Napi::Value ConvNetInit(const Napi::CallbackInfo& info) {
  const model::ConvNet net(toConvNetSpec(argObject(info, 0, "convnet")));
  const auto opts = argObject(info, 1, "options");
  const auto dtype = parseDtype(getString(opts, "options", "dtype"));
  const auto device = parseDevice(getString(opts, "options", "device"));
  return TensorHandle::Wrap(info.Env(), net.initParams(getSeed(opts, "options"), dtype, device));
}

// async: convnetForward(spec, images, params) -> Promise<Tensor> of logits [N, numClasses].
Napi::Value ConvNetForward(const Napi::CallbackInfo& info) {
  auto net = std::make_shared<model::ConvNet>(toConvNetSpec(argObject(info, 0, "convnet")));
  auto images = TensorHandle::TensorOf(info[1], "images");
  auto params = TensorHandle::TensorOf(info[2], "params");
  auto lease = leaseTensors(info.Env(), "convnetForward", {reads(images, "images"), reads(params, "params")});
  auto logits = std::make_shared<torch::Tensor>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.convnetForward",
      [=] {
        torch::NoGradGuard noGrad;
        *logits = net->forward(images, params);
      },
      [=](Napi::Env env) -> Napi::Value { return TensorHandle::Wrap(env, *logits); }, std::move(lease));
}

}  // namespace

void RegisterModel(Napi::Env env, Napi::Object exports) {
  exports.Set("convnetLayout", Napi::Function::New(env, guarded<ConvNetLayout>, "convnetLayout"));
  exports.Set("convnetInit", Napi::Function::New(env, guarded<ConvNetInit>, "convnetInit"));
  exports.Set("convnetForward", Napi::Function::New(env, guarded<ConvNetForward>, "convnetForward"));
}

}  // namespace trajmatch::binding
