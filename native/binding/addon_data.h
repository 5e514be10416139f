// What the addon keeps per Node environment: the constructors of its handle classes, so that C++
// can create handles and recognise them (InstanceOf) in arguments.
#pragma once

#include <napi.h>

namespace trajmatch::binding {

struct AddonData {
  Napi::FunctionReference tensorClass;
  Napi::FunctionReference networkClass;
};

inline AddonData& addonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace trajmatch::binding
