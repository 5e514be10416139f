// Module init only: each binding module registers its own functions.
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/exports.h"
#include "core/cpu_allocator.h"
#include "core/device.h"
#include "core/onednn.h"

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace trajmatch::binding;
  trajmatch::initThreads();          // ops run synchronously on the JS thread use every core too
  trajmatch::configureOneDnn();      // before the first convolution: off where oneDNN is known bad
  trajmatch::installCpuAllocator();  // before the first tensor: freed blocks are reused, not unmapped
  env.SetInstanceData(new AddonData());
  RegisterBackend(env, exports);
  RegisterModel(env, exports);
  RegisterAugment(env, exports);
  RegisterTrain(env, exports);
  RegisterDistill(env, exports);
  RegisterData(env, exports);
  RegisterIo(env, exports);
  RegisterDistributed(env, exports);
  return exports;
}

NODE_API_MODULE(trajmatch, InitAddon)
