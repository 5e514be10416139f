#include "binding/in_flight.h"

#include <mutex>
#include <unordered_map>

namespace trajmatch::binding {

namespace {

struct InFlightUse {
  uint64_t lease;
  std::string call;
  std::string role;
  Access access;
};

// Keyed by storage, so that views and handles that share memory are one tensor here.
std::mutex mutex;
std::unordered_map<const void*, std::vector<InFlightUse>> inFlight;
uint64_t nextLease = 1;

const void* keyOf(const torch::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return nullptr;
  return t.storage().unsafeGetStorageImpl();
}

// Requires the mutex.
void checkLocked(Napi::Env env, const std::string& call, const std::vector<TensorUse>& uses) {
  for (const auto& use : uses) {
    const auto it = inFlight.find(keyOf(use.tensor));
    if (it == inFlight.end()) continue;
    for (const auto& other : it->second) {
      if (use.access == Access::kRead && other.access == Access::kRead) continue;
      const std::string what = use.access == Access::kWrite ? "write" : "read";
      const std::string theirs = other.access == Access::kWrite ? "writes" : "reads";
      auto error = Napi::Error::New(env, call + ": cannot " + what + " " + use.role + ": the tensor is in use by " +
                                             other.call + " (which " + theirs + " it as " + other.role +
                                             "), still running; await that call first");
      error.Set("code", Napi::String::New(env, "ERR_TENSOR_IN_USE"));
      throw error;
    }
  }
}

}  // namespace

TensorLease::~TensorLease() {
  std::lock_guard<std::mutex> lock(mutex);
  for (auto it = inFlight.begin(); it != inFlight.end();) {
    auto& uses = it->second;
    for (auto u = uses.begin(); u != uses.end();) u = u->lease == id_ ? uses.erase(u) : u + 1;
    it = uses.empty() ? inFlight.erase(it) : std::next(it);
  }
}

void checkTensors(Napi::Env env, const std::string& call, const std::vector<TensorUse>& uses) {
  std::lock_guard<std::mutex> lock(mutex);
  checkLocked(env, call, uses);
}

std::shared_ptr<TensorLease> leaseTensors(Napi::Env env, const std::string& call, const std::vector<TensorUse>& uses) {
  std::lock_guard<std::mutex> lock(mutex);
  checkLocked(env, call, uses);
  const uint64_t id = nextLease++;
  for (const auto& use : uses) {
    const auto key = keyOf(use.tensor);
    if (key) inFlight[key].push_back({id, call, use.role, use.access});
  }
  return std::shared_ptr<TensorLease>(new TensorLease(id));
}

}  // namespace trajmatch::binding
