// One trajectory-matching evaluation with exact gradients to the synthetic pixels and lr.
#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "distill/unroll.h"

namespace trajmatch::binding {

namespace {

// async: unrollMatch(spec, {images, labels, start, target, lr, synSteps})
//   -> Promise<{loss: number, gradImages: Tensor, gradLr: number}>
Napi::Value UnrollMatch(const Napi::CallbackInfo& info) {
  auto net = std::make_shared<model::ConvNet>(toConvNetSpec(argObject(info, 0, "convnet")));
  const auto args = argObject(info, 1, "inputs");
  distill::MatchInputs in;
  in.images = getTensor(args, "inputs", "images");
  in.labels = getTensor(args, "inputs", "labels");
  in.start = getTensor(args, "inputs", "start");
  in.target = getTensor(args, "inputs", "target");
  in.lr = getNumber(args, "inputs", "lr");
  in.synSteps = getInt(args, "inputs", "synSteps");
  auto result = std::make_shared<distill::MatchResult>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.unrollMatch", [=] { *result = distill::unrollMatch(*net, in); },
      [=](Napi::Env env) -> Napi::Value {
        auto out = Napi::Object::New(env);
        out.Set("loss", result->loss.item<double>());
        out.Set("gradImages", TensorHandle::Wrap(env, result->gradImages));
        out.Set("gradLr", result->gradLr.item<double>());
        return out;
      });
}

}  // namespace

void RegisterDistill(Napi::Env env, Napi::Object exports) {
  exports.Set("unrollMatch", Napi::Function::New(env, guarded<UnrollMatch>, "unrollMatch"));
}

}  // namespace trajmatch::binding
