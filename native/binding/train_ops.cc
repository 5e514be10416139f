// Networks that train epoch by epoch: the Network handle class and its factory.
#include "binding/exports.h"
#include "binding/guard.h"
#include "binding/network_handle.h"

namespace trajmatch::binding {

namespace {

// sync: liveNetworkCount() -> Network handles not yet disposed or collected.
Napi::Value LiveNetworkCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(NetworkHandle::LiveCount()));
}

}  // namespace

void RegisterTrain(Napi::Env env, Napi::Object exports) {
  exports.Set("Network", NetworkHandle::Init(env));
  exports.Set("createNetwork", Napi::Function::New(env, guarded<CreateNetwork>, "createNetwork"));
  exports.Set("liveNetworkCount", Napi::Function::New(env, guarded<LiveNetworkCount>, "liveNetworkCount"));
}

}  // namespace trajmatch::binding
