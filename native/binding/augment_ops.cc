// DSA, for checking the augmentation and its differentiability from JS.
#include "augment/dsa.h"
#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"

namespace trajmatch::binding {

namespace {

// async: dsaApply(images, {strategy, seed, cotangent?}) -> Promise<{images, grad?}>
//   grad = d<dsa(images), cotangent>/d images, when a cotangent is given.
Napi::Value DsaApply(const Napi::CallbackInfo& info) {
  const auto images = TensorHandle::TensorOf(info[0], "images");
  const auto opts = argObject(info, 1, "options");
  const auto config = augment::parseDsaStrategy(getString(opts, "options", "strategy"));
  const auto seed = getSeed(opts, "options");
  const auto cotangent = getOptionalTensor(opts, "options", "cotangent");
  auto lease = leaseTensors(info.Env(), "dsaApply", {reads(images, "images"), reads(cotangent, "options.cotangent")});
  auto out = std::make_shared<std::pair<torch::Tensor, torch::Tensor>>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.dsaApply",
      [=] {
        *out = cotangent.defined() ? augment::dsaWithVjp(images, config, seed, cotangent)
                                   : std::make_pair(augment::dsa(images.detach(), config, seed), torch::Tensor());
      },
      [=](Napi::Env env) -> Napi::Value {
        auto result = Napi::Object::New(env);
        result.Set("images", TensorHandle::Wrap(env, out->first));
        if (out->second.defined()) result.Set("grad", TensorHandle::Wrap(env, out->second));
        return result;
      },
      std::move(lease));
}

}  // namespace

void RegisterAugment(Napi::Env env, Napi::Object exports) {
  exports.Set("dsaApply", Napi::Function::New(env, guarded<DsaApply>, "dsaApply"));
}

}  // namespace trajmatch::binding
