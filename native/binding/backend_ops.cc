// Backend facts and tensor creation.
#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/in_flight.h"
#include "binding/tensor_handle.h"
#include "core/cpu_allocator.h"
#include "core/device.h"
#include "core/device_memory.h"

namespace trajmatch::binding {

namespace {

// sync: backendInfo() -> {torchVersion, builtWithCuda, cudaAvailable, cudaDeviceCount, cxx11Abi, threads,
//   deviceMemoryStats, oneDnn: {version, enabled, reason}, openBlas: {threads (null: none), reason},
//   cpuAllocator: {enabled, reason, cacheLimit, cachedBytes, cachedBlocks, hits, misses, evictions}}
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
  out.Set("deviceMemoryStats", deviceMemoryStatsAvailable());
  auto onednn = Napi::Object::New(env);
  onednn.Set("version", b.oneDnnVersion.empty() ? env.Null() : Napi::String::New(env, b.oneDnnVersion));
  onednn.Set("enabled", b.oneDnnEnabled);
  onednn.Set("reason", b.oneDnnReason);
  out.Set("oneDnn", onednn);
  auto blas = Napi::Object::New(env);
  blas.Set("threads",
           b.openBlasThreads < 0 ? env.Null() : Napi::Number::New(env, static_cast<double>(b.openBlasThreads)));
  blas.Set("reason", b.openBlasReason);
  out.Set("openBlas", blas);
  const auto a = cpuAllocatorState();
  auto alloc = Napi::Object::New(env);
  alloc.Set("enabled", a.enabled);
  alloc.Set("reason", a.reason);
  alloc.Set("cacheLimit", static_cast<double>(a.cacheLimit));
  alloc.Set("cachedBytes", static_cast<double>(a.cachedBytes));
  alloc.Set("cachedBlocks", static_cast<double>(a.cachedBlocks));
  alloc.Set("hits", static_cast<double>(a.hits));
  alloc.Set("misses", static_cast<double>(a.misses));
  alloc.Set("evictions", static_cast<double>(a.evictions));
  out.Set("cpuAllocator", alloc);
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

// sync: indexSelect(t, indices) -> a new Tensor of the rows of t at the given indices (on t's device).
Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  const auto t = TensorHandle::TensorOf(info[0], "tensor");
  const auto values = toNumbers(info[1], "indices");
  std::vector<int64_t> idx(values.begin(), values.end());
  checkTensors(info.Env(), "indexSelect", {reads(t, "tensor")});
  TORCH_CHECK(t.dim() >= 1, "indexSelect needs a tensor of at least one dimension");
  for (size_t i = 0; i < idx.size(); ++i) {
    TORCH_CHECK(idx[i] >= 0 && idx[i] < t.size(0) && static_cast<double>(idx[i]) == values[i], "indices[", i,
                "] = ", values[i], " is not a row of a tensor of ", t.size(0), " rows");
  }
  const auto index = torch::tensor(idx, torch::TensorOptions().dtype(torch::kInt64)).to(t.device());
  return TensorHandle::Wrap(info.Env(), t.index_select(0, index));
}

// sync: devicePeakBytes(device, {reset?}) -> the CUDA allocator's peak allocated bytes since the
//   last reset, or null (CPU, or a build without the statistics); reset: true starts a new peak.
Napi::Value DevicePeakBytes(const Napi::CallbackInfo& info) {
  const auto device = parseDevice(argString(info, 0, "device"));
  const bool reset = info.Length() > 1 && info[1].IsObject() && info[1].As<Napi::Object>().Get("reset").ToBoolean();
  if (reset) {
    resetPeakDeviceBytes(device);
    return info.Env().Null();
  }
  const auto peak = peakDeviceBytes(device);
  return peak ? Napi::Number::New(info.Env(), static_cast<double>(*peak)) : info.Env().Null();
}

}  // namespace

void RegisterBackend(Napi::Env env, Napi::Object exports) {
  exports.Set("Tensor", TensorHandle::Init(env));
  exports.Set("backendInfo", Napi::Function::New(env, guarded<BackendInfo>, "backendInfo"));
  exports.Set("parseDevice", Napi::Function::New(env, guarded<ParseDevice>, "parseDevice"));
  exports.Set("tensor", Napi::Function::New(env, guarded<CreateTensor>, "tensor"));
  exports.Set("devicePeakBytes", Napi::Function::New(env, guarded<DevicePeakBytes>, "devicePeakBytes"));
  exports.Set("indexSelect", Napi::Function::New(env, guarded<IndexSelect>, "indexSelect"));
  exports.Set("liveTensorCount", Napi::Function::New(env, guarded<LiveTensorCount>, "liveTensorCount"));
}

}  // namespace trajmatch::binding
