// Which tensors the async calls in flight are reading or writing, so that no other call reads a
// tensor while it is being written, or writes one while it is being read. A worker thread holds
// the tensors it was given until its Promise settles: without this check a second call (two
// epochs on the same parameters, an SGD step on the pixels an iteration is reading) would race
// with it and silently corrupt both results. Reads alongside reads are allowed.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace trajmatch::binding {

enum class Access { kRead, kWrite };

// One tensor a call uses: `role` names it in messages (e.g. "inputs.images").
struct TensorUse {
  torch::Tensor tensor;
  std::string role;
  Access access;
};

inline TensorUse reads(torch::Tensor tensor, std::string role) {
  return {std::move(tensor), std::move(role), Access::kRead};
}
inline TensorUse writes(torch::Tensor tensor, std::string role) {
  return {std::move(tensor), std::move(role), Access::kWrite};
}

// The uses of one async call, registered until this object is destroyed (when its Promise settles).
class TensorLease {
 public:
  ~TensorLease();
  TensorLease(const TensorLease&) = delete;
  TensorLease& operator=(const TensorLease&) = delete;

 private:
  friend std::shared_ptr<TensorLease> leaseTensors(Napi::Env, const std::string&, const std::vector<TensorUse>&);
  explicit TensorLease(uint64_t id) : id_(id) {}
  uint64_t id_;
};

// Throws an Error (code ERR_TENSOR_IN_USE) naming `call`, the tensor's role and the call in flight
// when one of `uses` conflicts with a call in flight; for synchronous calls.
void checkTensors(Napi::Env env, const std::string& call, const std::vector<TensorUse>& uses);

// Checks as above, then registers `uses` as in flight for `call` until the lease is destroyed.
std::shared_ptr<TensorLease> leaseTensors(Napi::Env env, const std::string& call, const std::vector<TensorUse>& uses);

}  // namespace trajmatch::binding
