// What the addon keeps per Node environment: the constructors of its handle classes, so that C++
// can create handles and recognise them (InstanceOf) in arguments.
#pragma once

#include <napi.h>

namespace trajmatch::binding {

struct AddonData {
  Napi::FunctionReference tensorClass;
  Napi::FunctionReference networkClass;
};

// A marker that lets only C++ construct the handle classes (JS `new` without it is refused).
inline constexpr char kInternalTag[] = "trajmatch.internal";

inline AddonData& addonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace trajmatch::binding
