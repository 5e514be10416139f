// The distillation iteration, and the in-place SGD-with-momentum step of the synthetic pixels.
#include "augment/dsa.h"
#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/in_flight.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "distill/match.h"
#include "train/sgd.h"

namespace trajmatch::binding {

namespace {

// async: matchIteration(spec, {images, labels, start, target, lr, synSteps, batchSyn, dsa?, seed,
//   method}) -> Promise<{loss: number, gradImages: Tensor, gradLr: number}>
Napi::Value MatchIteration(const Napi::CallbackInfo& info) {
  auto net = std::make_shared<model::ConvNet>(toConvNetSpec(argObject(info, 0, "convnet")));
  const auto args = argObject(info, 1, "inputs");
  distill::MatchInputs in;
  in.images = getTensor(args, "inputs", "images");
  in.labels = getTensor(args, "inputs", "labels");
  in.start = getTensor(args, "inputs", "start");
  in.target = getTensor(args, "inputs", "target");
  in.lr = getNumber(args, "inputs", "lr");
  in.synSteps = getInt(args, "inputs", "synSteps");
  in.batchSyn = getInt(args, "inputs", "batchSyn");
  in.dsa = getDsa(args, "inputs");
  in.seed = getSeed(args, "inputs");
  in.method = distill::parseGradMethod(getString(args, "inputs", "method"));
  auto lease = leaseTensors(info.Env(), "matchIteration",
                            {reads(in.images, "inputs.images"), reads(in.labels, "inputs.labels"),
                             reads(in.start, "inputs.start"), reads(in.target, "inputs.target")});
  auto result = std::make_shared<distill::MatchResult>();
  return PromiseWorker::Run(
      info.Env(), "trajmatch.matchIteration", [=] { *result = distill::matchIteration(*net, in); },
      [=](Napi::Env env) -> Napi::Value {
        auto out = Napi::Object::New(env);
        out.Set("loss", result->loss.item<double>());
        out.Set("gradImages", TensorHandle::Wrap(env, result->gradImages));
        out.Set("gradLr", result->gradLr.item<double>());
        return out;
      },
      std::move(lease));
}

// sync: sgdStep(param, grad, buffer, {lr, momentum}): train::sgdStep without weight decay, in place.
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  auto param = TensorHandle::TensorOf(info[0], "param");
  const auto grad = TensorHandle::TensorOf(info[1], "grad");
  auto buffer = TensorHandle::TensorOf(info[2], "buffer");
  const auto opts = argObject(info, 3, "options");
  checkTensors(info.Env(), "sgdStep", {writes(param, "param"), reads(grad, "grad"), writes(buffer, "buffer")});
  train::sgdStep(param, grad, buffer, getNumber(opts, "options", "lr"), getNumber(opts, "options", "momentum"), 0.0);
  return info.Env().Undefined();
}

}  // namespace

void RegisterDistill(Napi::Env env, Napi::Object exports) {
  exports.Set("matchIteration", Napi::Function::New(env, guarded<MatchIteration>, "matchIteration"));
  exports.Set("sgdStep", Napi::Function::New(env, guarded<SgdStep>, "sgdStep"));
}

}  // namespace trajmatch::binding
