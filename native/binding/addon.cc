// Module init only: each binding module registers its own functions.
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/exports.h"
#include "core/device.h"

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace trajmatch::binding;
  trajmatch::initThreads();  // ops run synchronously on the JS thread use every core too
  env.SetInstanceData(new AddonData());
  RegisterBackend(env, exports);
  RegisterModel(env, exports);
  RegisterAugment(env, exports);
  RegisterTrain(env, exports);
  RegisterDistill(env, exports);
  RegisterData(env, exports);
  return exports;
}

NODE_API_MODULE(trajmatch, InitAddon)
