// Backend facts and tensor creation.
#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/tensor_handle.h"
#include "core/device.h"

namespace trajmatch::binding {

namespace {

// sync: backendInfo() -> {torchVersion, builtWithCuda, cudaAvailable, cudaDeviceCount, cxx11Abi, threads}
Napi::Value BackendInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto b = backendInfo();
  auto out = Napi::Object::New(env);
  out.Set("torchVersion", b.torchVersion);
  out.Set("builtWithCuda", b.builtWithCuda);
  out.Set("cudaAvailable", b.cudaAvailable);
  out.Set("cudaDeviceCount", static_cast<double>(b.cudaDeviceCount));
  out.Set("cxx11Abi", b.cxx11Abi);
  out.Set("threads", static_cast<double>(b.threads));
  return out;
}

// sync: parseDevice(name) -> canonical name ("cpu" | "cuda:N"); throws when unusable here.
Napi::Value ParseDevice(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), deviceName(parseDevice(argString(info, 0, "device"))));
}

// sync: liveTensorCount() -> handles not yet disposed or collected.
Napi::Value LiveTensorCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(TensorHandle::LiveCount()));
}

}  // namespace

void RegisterBackend(Napi::Env env, Napi::Object exports) {
  exports.Set("backendInfo", Napi::Function::New(env, guarded<BackendInfo>, "backendInfo"));
  exports.Set("parseDevice", Napi::Function::New(env, guarded<ParseDevice>, "parseDevice"));
  exports.Set("tensor", Napi::Function::New(env, guarded<CreateTensor>, "tensor"));
  exports.Set("liveTensorCount", Napi::Function::New(env, guarded<LiveTensorCount>, "liveTensorCount"));
}

}  // namespace trajmatch::binding
