// Image preprocessing on the device: normalisation of 8-bit pixels and ZCA whitening.
#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "data/images.h"
#include "data/zca.h"

namespace trajmatch::binding {

namespace {

// Runs fn(images) on a worker and resolves with the resulting tensor as a new handle.
Napi::Value TensorResult(Napi::Env env, const char* name, std::function<torch::Tensor()> fn,
                         std::shared_ptr<TensorLease> lease) {
  auto out = std::make_shared<torch::Tensor>();
  return PromiseWorker::Run(
      env, name, [=] { *out = fn(); }, [=](Napi::Env e) -> Napi::Value { return TensorHandle::Wrap(e, *out); },
      std::move(lease));
}

// What zcaWhiten and zcaUnwhiten read while in flight: the transform's tensors and the images.
std::vector<TensorUse> zcaReads(const torch::Tensor& images, const data::ZcaTransform& zca) {
  return {reads(zca.mean, "zca.mean"), reads(zca.whiten, "zca.whiten"), reads(zca.unwhiten, "zca.unwhiten"),
          reads(images, "images")};
}

data::ZcaTransform toZca(const Napi::Value& value) {
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "zca: expected {mean, whiten, unwhiten}");
  const auto obj = value.As<Napi::Object>();
  return {getTensor(obj, "zca", "mean"), getTensor(obj, "zca", "whiten"), getTensor(obj, "zca", "unwhiten")};
}

// async: normalizeImages(pixels uint8 [N,C,H,W], mean[], std[]) -> Promise<Tensor float32>
Napi::Value NormalizeImages(const Napi::CallbackInfo& info) {
  const auto pixels = TensorHandle::TensorOf(info[0], "pixels");
  const auto mean = toNumbers(info[1], "mean");
  const auto std = toNumbers(info[2], "std");
  auto lease = leaseTensors(info.Env(), "normalizeImages", {reads(pixels, "pixels")});
  return TensorResult(
      info.Env(), "trajmatch.normalizeImages", [=] { return data::normalizeImages(pixels, mean, std); },
      std::move(lease));
}

// async: zcaFit(images, eps) -> Promise<{mean, whiten, unwhiten}>
Napi::Value ZcaFit(const Napi::CallbackInfo& info) {
  const auto images = TensorHandle::TensorOf(info[0], "images");
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "eps: expected a number");
  const double eps = info[1].As<Napi::Number>().DoubleValue();
  auto lease = leaseTensors(info.Env(), "zcaFit", {reads(images, "images")});
  auto zca = std::make_shared<data::ZcaTransform>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.zcaFit", [=] { *zca = data::zcaFit(images, eps); },
      [=](Napi::Env env) -> Napi::Value {
        auto out = Napi::Object::New(env);
        out.Set("mean", TensorHandle::Wrap(env, zca->mean));
        out.Set("whiten", TensorHandle::Wrap(env, zca->whiten));
        out.Set("unwhiten", TensorHandle::Wrap(env, zca->unwhiten));
        return out;
      },
      std::move(lease));
}

// async: zcaWhiten(images, zca) -> Promise<Tensor>, same shape
Napi::Value ZcaWhiten(const Napi::CallbackInfo& info) {
  const auto images = TensorHandle::TensorOf(info[0], "images");
  const auto zca = toZca(info[1]);
  return TensorResult(
      info.Env(), "trajmatch.zcaWhiten", [=] { return data::zcaWhiten(images, zca); },
      leaseTensors(info.Env(), "zcaWhiten", zcaReads(images, zca)));
}

// async: zcaUnwhiten(images, zca) -> Promise<Tensor>, same shape
Napi::Value ZcaUnwhiten(const Napi::CallbackInfo& info) {
  const auto images = TensorHandle::TensorOf(info[0], "images");
  const auto zca = toZca(info[1]);
  return TensorResult(
      info.Env(), "trajmatch.zcaUnwhiten", [=] { return data::zcaUnwhiten(images, zca); },
      leaseTensors(info.Env(), "zcaUnwhiten", zcaReads(images, zca)));
}

}  // namespace

void RegisterData(Napi::Env env, Napi::Object exports) {
  exports.Set("normalizeImages", Napi::Function::New(env, guarded<NormalizeImages>, "normalizeImages"));
  exports.Set("zcaFit", Napi::Function::New(env, guarded<ZcaFit>, "zcaFit"));
  exports.Set("zcaWhiten", Napi::Function::New(env, guarded<ZcaWhiten>, "zcaWhiten"));
  exports.Set("zcaUnwhiten", Napi::Function::New(env, guarded<ZcaUnwhiten>, "zcaUnwhiten"));
}

}  // namespace trajmatch::binding
