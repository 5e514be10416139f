// A process group on libtorch's distributed engine (c10d): the ranks meet at a TCPStore hosted by
// rank 0 (torchrun's MASTER_ADDR/MASTER_PORT), agree on their options, and then talk through Gloo
// (CPU tensors) or NCCL (CUDA tensors). Everything that can wait on another rank is bounded: by the
// timeout, or, for the waits that have no natural bound (uneven work), by the liveness of the ranks
// (watchdog.h). Free of Node-API.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "distributed/c10d_compat.h"
#include "distributed/rendezvous.h"
#include "distributed/watchdog.h"

namespace trajmatch::distributed {

enum class BackendKind { Gloo, Nccl };

BackendKind parseBackend(const std::string& name);  // "gloo" | "nccl"
std::string backendName(BackendKind kind);

// What this build of the engine has: c10d at all, and which backends.
struct Capabilities {
  bool c10d = false;
  bool gloo = false;
  bool nccl = false;
};
Capabilities capabilities();

// Every field is set by the caller: the defaults (master 127.0.0.1, a timeout of 60 s, Gloo on the
// CPU) live in TypeScript (src/distributed/process-group.ts).
struct GroupOptions {
  int rank = 0;
  int worldSize = 0;
  std::string masterAddr;
  int masterPort = 0;
  // Bounds the rendezvous, each collective, and the silence of a rank before it counts as dead.
  std::chrono::milliseconds timeout{0};
  BackendKind backend = BackendKind::Gloo;
  // The device of the tensors the collectives take (CPU for Gloo, this rank's GPU for NCCL).
  torch::Device device = torch::kCPU;
  // Options that every rank must have equal (the world size is added), checked at rendezvous.
  AgreedOptions agreed;
};

class ProcessGroup {
 public:
  // Joins the group: connects to (rank 0: hosts) the store, checks in, compares options, and forms
  // the backend. Throws std::runtime_error with the cause (bad argument, port in use, master not
  // reachable, ranks missing, options differing) after at most about `timeout`.
  static std::shared_ptr<ProcessGroup> join(const GroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return options_.rank; }
  int worldSize() const { return options_.worldSize; }
  BackendKind backend() const { return options_.backend; }
  const torch::Device& device() const { return options_.device; }
  std::chrono::milliseconds timeout() const { return options_.timeout; }

  // Replaces each tensor, in place, by its mean over the ranks (one collective for all of them).
  // The tensors must be floating point, of one dtype, on the group's device.
  void allReduceMean(const std::vector<torch::Tensor>& tensors);
  // Copies rank `root`'s values into each tensor of every other rank, in place.
  void broadcast(const std::vector<torch::Tensor>& tensors, int root);
  // c10d's barrier: for ranks that move in step; bounded by the timeout.
  void barrier();
  // Waits until every rank has reached the point `name`, without a deadline while all ranks are
  // alive: for ranks that finish uneven amounts of work.
  void join(const std::string& name);
  // An atomic counter shared by the ranks: adds `delta` and returns the new value.
  int64_t add(const std::string& key, int64_t delta);
  // Every rank's `value`, in rank order (waits as join() does).
  std::vector<std::string> allGather(const std::string& key, const std::string& value);

  // A rank that died, hung or failed, or the store gone: the first seen, naming the rank.
  std::optional<std::string> failure() const;
  // The caller's event loop is alive (see watchdog.h).
  void tick();
  // Tells the others that this rank fails, and why; they stop with that message.
  void fail(const std::string& message);
  // Leaves the group. Rank 0, which hosts the store, waits (bounded by the timeout) until the others
  // have left. After a failure nothing is waited for: the backend's threads, possibly stuck in a
  // collective with a dead rank, are left to end with the process.
  void close();

 private:
  explicit ProcessGroup(GroupOptions options);
  struct Busy;
  void check(const char* what) const;  // throws the failure, or on a closed group
  torch::Tensor flatten(const std::vector<torch::Tensor>& tensors, const char* what) const;

  GroupOptions options_;
  std::string where_;  // "addr:port", for messages
  std::atomic<bool> closed_{false};
  std::atomic<bool> broken_{false};  // a collective failed or a rank is gone: close() waits for nothing
  std::atomic<int> busy_{0};
  std::mutex generationsMutex_;
  std::map<std::string, int> generations_;  // of join() and allGather() points, so names can repeat
#ifdef TRAJMATCH_C10D
  void await(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what);
  // Runs store operations; a failing store becomes an error naming its host (or the watchdog's finding).
  void storeCall(const char* what, const std::function<void()>& call);
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<compat::Backend> backend_;
  std::unique_ptr<Watchdog> watchdog_;
#endif
};

}  // namespace trajmatch::distributed
