#include "distributed/process_group.h"

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <thread>

#include "core/device.h"
#include "core/errors.h"

namespace trajmatch::distributed {

namespace {

using Clock = std::chrono::steady_clock;

std::string secondsText(std::chrono::milliseconds ms) {
  const auto tenths = ms.count() / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + " s";
}

[[noreturn]] void refuse(const std::string& message) { throw std::invalid_argument(message); }

void validate(const GroupOptions& o) {
  if (o.worldSize < 1) refuse("WORLD_SIZE must be at least 1, received " + std::to_string(o.worldSize));
  if (o.rank < 0 || o.rank >= o.worldSize) {
    refuse("RANK must be in [0, WORLD_SIZE - 1] = [0, " + std::to_string(o.worldSize - 1) + "], received " +
           std::to_string(o.rank));
  }
  if (o.masterPort < 1 || o.masterPort > 65535) {
    refuse("MASTER_PORT must be a TCP port in [1, 65535], received " + std::to_string(o.masterPort));
  }
  if (o.masterAddr.empty()) refuse("MASTER_ADDR must name the host of rank 0, received an empty string");
  if (o.timeout.count() <= 0)
    refuse("the timeout must be positive, received " + std::to_string(o.timeout.count()) + " ms");
  if (o.backend == BackendKind::Gloo && !o.device.is_cpu()) {
    refuse("the gloo backend takes CPU tensors, but the group's device is " + deviceName(o.device) +
           " (use the nccl backend for CUDA)");
  }
  if (o.backend == BackendKind::Nccl && !o.device.is_cuda()) {
    refuse("the nccl backend takes CUDA tensors, but the group's device is " + deviceName(o.device) +
           " (use the gloo backend on the CPU)");
  }
}

#ifdef TRAJMATCH_C10D

bool isLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]";
}

// The store at MASTER_ADDR:MASTER_PORT; rank 0 hosts it. c10d's own messages say what the socket
// did; these say which setting to look at.
c10::intrusive_ptr<c10d::Store> openStore(const GroupOptions& o, const std::string& where, bool host) {
  try {
    return c10::make_intrusive<c10d::TCPStore>(
        o.masterAddr, compat::storeOptions(static_cast<std::uint16_t>(o.masterPort), host, o.timeout));
  } catch (const std::exception& e) {
    const auto why = describeException(e);
    if (host) {
      const bool inUse = why.find("in use") != std::string::npos || why.find("EADDRINUSE") != std::string::npos;
      throw std::runtime_error("rank 0 cannot host the rendezvous store on port " + std::to_string(o.masterPort) +
                               (inUse ? ": the port is in use (choose another MASTER_PORT)" : "") + ": " + why);
    }
    throw std::runtime_error("rank " + std::to_string(o.rank) + " cannot reach the rendezvous store at " + where +
                             " within " + secondsText(o.timeout) +
                             " (is rank 0 running, with the same MASTER_ADDR and MASTER_PORT?): " + why);
  }
}

#ifdef TRAJMATCH_C10D_GLOO
// The network interface Gloo binds: GLOO_SOCKET_IFNAME as in PyTorch; the loopback when the master
// is on it (a single-host run); otherwise the address this host's name resolves to.
std::vector<std::shared_ptr<::gloo::transport::Device>> glooDevices(const std::string& masterAddr) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  const char* names = std::getenv("GLOO_SOCKET_IFNAME");
  if (names != nullptr && *names != '\0') {
    std::string list(names);
    size_t at = 0;
    while (at <= list.size()) {
      const auto comma = std::min(list.find(',', at), list.size());
      if (comma > at) devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(list.substr(at, comma - at)));
      at = comma + 1;
    }
  } else if (isLoopback(masterAddr)) {
    devices.push_back(
        c10d::ProcessGroupGloo::createDeviceForHostname(masterAddr == "localhost" ? "127.0.0.1" : masterAddr));
  } else {
    devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return devices;
}
#endif

#endif  // TRAJMATCH_C10D

}  // namespace

BackendKind parseBackend(const std::string& name) {
  if (name == "gloo") return BackendKind::Gloo;
  if (name == "nccl") return BackendKind::Nccl;
  refuse("backend must be \"gloo\" or \"nccl\", received \"" + name + "\"");
}

std::string backendName(BackendKind kind) { return kind == BackendKind::Gloo ? "gloo" : "nccl"; }

Capabilities capabilities() {
  Capabilities c;
#ifdef TRAJMATCH_C10D
  c.c10d = true;
#endif
#ifdef TRAJMATCH_C10D_GLOO
  c.gloo = true;
#endif
#ifdef TRAJMATCH_C10D_NCCL
  c.nccl = true;
#endif
  return c;
}

ProcessGroup::ProcessGroup(GroupOptions options)
    : options_(std::move(options)), where_(options_.masterAddr + ":" + std::to_string(options_.masterPort)) {}

std::shared_ptr<ProcessGroup> ProcessGroup::join(const GroupOptions& o) {
  validate(o);
  const auto can = capabilities();
  if (!can.c10d) {
    refuse(
        "this libtorch has no distributed engine (c10d's TCPStore did not build against it); use a libtorch built "
        "with USE_DISTRIBUTED (the pytorch.org builds, Debian's libtorch-dev) and run npm run build:native");
  }
  if (o.backend == BackendKind::Gloo && !can.gloo) {
    refuse(
        "this build of trajmatch has no gloo backend: the gloo headers were not found when it was built (Debian: "
        "apt-get install libgloo-dev; then npm run build:native)");
  }
  if (o.backend == BackendKind::Nccl && !can.nccl) {
    refuse(
        "this build of trajmatch has no nccl backend: it needs a CUDA build of libtorch and nccl.h when it is built "
        "(see binding.gyp.md)");
  }
  std::shared_ptr<ProcessGroup> group(new ProcessGroup(o));
#ifdef TRAJMATCH_C10D
  auto& g = *group;
  AgreedOptions agreed{{"WORLD_SIZE", std::to_string(o.worldSize)}, {"backend", backendName(o.backend)}};
  agreed.insert(agreed.end(), o.agreed.begin(), o.agreed.end());
  g.store_ = openStore(o, g.where_, o.rank == 0);
  rendezvous(*g.store_, o.rank, o.worldSize, agreed, o.timeout, g.where_);

  auto backendStore = c10::make_intrusive<c10d::PrefixStore>(storeKey(backendName(o.backend)), g.store_);
  try {
    if (o.backend == BackendKind::Gloo) {
#ifdef TRAJMATCH_C10D_GLOO
      auto glooOptions = c10d::ProcessGroupGloo::Options::create(o.timeout);
      glooOptions->devices = glooDevices(o.masterAddr);
      g.backend_ = c10::make_intrusive<c10d::ProcessGroupGloo>(backendStore, o.rank, o.worldSize, glooOptions);
#endif
    } else {
#ifdef TRAJMATCH_C10D_NCCL
      g.backend_ = c10::make_intrusive<c10d::ProcessGroupNCCL>(backendStore, o.rank, o.worldSize,
                                                               compat::ncclOptions(o.timeout));
#endif
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("rendezvous at " + g.where_ + ": the " + backendName(o.backend) +
                             " connections between the ranks did not form: " + describeException(e));
  }
  // The watchdog talks to the store on a connection of its own: it may block there.
  g.watchdog_ = std::make_unique<Watchdog>(openStore(o, g.where_, false), o.rank, o.worldSize, o.timeout, g.where_);
#endif
  return group;
}

ProcessGroup::~ProcessGroup() {
  if (!closed_) {
    broken_ = true;  // never block in a destructor: leave the backend to the end of the process
    close();
  }
}

// Counts the calls in flight, so that close() never destroys the backend under one of them.
struct ProcessGroup::Busy {
  explicit Busy(std::atomic<int>& n) : n_(n) { ++n_; }
  ~Busy() { --n_; }
  std::atomic<int>& n_;
};

void ProcessGroup::check(const char* what) const {
  if (closed_) throw std::runtime_error(std::string(what) + ": the process group was closed");
  if (auto f = failure()) throw std::runtime_error(std::string(what) + ": " + *f);
}

std::optional<std::string> ProcessGroup::failure() const {
#ifdef TRAJMATCH_C10D
  if (watchdog_) return watchdog_->failure();
#endif
  return std::nullopt;
}

void ProcessGroup::tick() {
#ifdef TRAJMATCH_C10D
  if (watchdog_ && !closed_) watchdog_->tick();
#endif
}

torch::Tensor ProcessGroup::flatten(const std::vector<torch::Tensor>& tensors, const char* what) const {
  if (tensors.empty()) refuse(std::string(what) + ": expected at least one tensor");
  std::vector<torch::Tensor> flat;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    const auto name = std::string(what) + ": tensors[" + std::to_string(i) + "]";
    if (t.scalar_type() != tensors[0].scalar_type()) {
      refuse(name + " is " + std::string(c10::toString(t.scalar_type())) + " but tensors[0] is " +
             std::string(c10::toString(tensors[0].scalar_type())) + ": one dtype for all");
    }
    if (t.device() != options_.device) {
      refuse(name + " is on " + deviceName(t.device()) + " but the group's device is " + deviceName(options_.device));
    }
    flat.push_back(t.detach().reshape({-1}));
  }
  return torch::cat(flat);  // a fresh contiguous buffer: one collective for all tensors
}

#ifdef TRAJMATCH_C10D
void ProcessGroup::await(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what) {
  const auto deadline = Clock::now() + options_.timeout;
  // Polled rather than wait(timeout)-ed: the NCCL and Gloo works give wait(timeout) different
  // meanings, and a failure the watchdog sees must end the wait at once.
  while (!work->isCompleted()) {
    if (auto f = watchdog_->failure()) {
      broken_ = true;
      throw std::runtime_error(what + ": " + *f);
    }
    if (Clock::now() > deadline) {
      broken_ = true;
      // A hung rank stops its heartbeat only after the timeout: give the watchdog as long to name it.
      auto named = watchdog_->awaitFailure(options_.timeout + 3 * watchdog_->interval());
      throw std::runtime_error(what + " did not finish within " + secondsText(options_.timeout) + ": " +
                               (named ? *named : "a rank died or hangs, or the timeout is too short for this work"));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  try {
    work->wait();
  } catch (const std::exception& e) {
    broken_ = true;
    // A rank that died breaks the connections at once; the watchdog names it within the timeout.
    auto named = watchdog_->awaitFailure(options_.timeout + 3 * watchdog_->interval());
    throw std::runtime_error(what +
                             " failed: " + (named ? *named + " (" + describeException(e) + ")" : describeException(e)));
  }
}
#endif

#ifdef TRAJMATCH_C10D
void ProcessGroup::storeCall(const char* what, const std::function<void()>& call) {
  try {
    call();
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    const std::string message = describeException(e);
    if (message.rfind(what, 0) == 0) throw;  // already says what failed (check())
    broken_ = true;
    // The store's host is rank 0: a store that fails means it died or hangs, or the watchdog knows better.
    auto named = watchdog_->awaitFailure(3 * watchdog_->interval());
    throw std::runtime_error(std::string(what) + ": " +
                             (named ? *named + " (" + message + ")"
                                    : "the rendezvous store at " + where_ +
                                          ", hosted by rank 0, stopped answering (rank 0 died or hangs): " + message));
  }
}
#endif

void ProcessGroup::allReduceMean(const std::vector<torch::Tensor>& tensors) {
  Busy busy(busy_);
  check("allReduceMean");
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!tensors[i].is_floating_point()) {
      refuse("allReduceMean: tensors[" + std::to_string(i) + "] is " +
             std::string(c10::toString(tensors[i].scalar_type())) + ": a mean needs floating point");
    }
  }
  torch::NoGradGuard noGrad;
  auto flat = flatten(tensors, "allReduceMean");
#ifdef TRAJMATCH_C10D
  std::vector<at::Tensor> buffers{flat};
  c10d::AllreduceOptions opts;
  opts.reduceOp = c10d::ReduceOp::SUM;  // Gloo has no AVG: sum, then divide
  opts.timeout = options_.timeout;
  await(backend_->allreduce(buffers, opts), "allReduceMean");
#endif
  flat.div_(options_.worldSize);
  int64_t at = 0;
  for (const auto& t : tensors) {
    const auto n = t.numel();
    t.detach().copy_(flat.narrow(0, at, n).view(t.sizes()));
    at += n;
  }
}

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  Busy busy(busy_);
  check("broadcast");
  if (root < 0 || root >= options_.worldSize) {
    refuse("broadcast: root must be a rank in [0, " + std::to_string(options_.worldSize - 1) + "], received " +
           std::to_string(root));
  }
  torch::NoGradGuard noGrad;
  auto flat = flatten(tensors, "broadcast");
#ifdef TRAJMATCH_C10D
  std::vector<at::Tensor> buffers{flat};
  c10d::BroadcastOptions opts;
  opts.rootRank = root;
  opts.timeout = options_.timeout;
  await(backend_->broadcast(buffers, opts), "broadcast");
#endif
  int64_t at = 0;
  for (const auto& t : tensors) {
    const auto n = t.numel();
    t.detach().copy_(flat.narrow(0, at, n).view(t.sizes()));
    at += n;
  }
}

void ProcessGroup::barrier() {
  Busy busy(busy_);
  check("barrier");
#ifdef TRAJMATCH_C10D
  if (options_.backend == BackendKind::Gloo) {
    c10d::BarrierOptions opts;
    opts.timeout = options_.timeout;
    await(backend_->barrier(opts), "barrier");
  } else {
    // NCCL's barrier guesses the device from the rank; a one-element all-reduce on ours does not guess.
    allReduceMean({torch::zeros({1}, torch::TensorOptions().device(options_.device))});
  }
#endif
}

void ProcessGroup::join(const std::string& name) {
  Busy busy(busy_);
  check("join");
#ifdef TRAJMATCH_C10D
  int generation;
  {
    std::lock_guard<std::mutex> lock(generationsMutex_);
    generation = generations_["join/" + name]++;
  }
  const auto key = storeKey("join/" + name + "/" + std::to_string(generation));
  storeCall("join", [&] {
    for (auto arrived = store_->add(key, 1); arrived < options_.worldSize; arrived = store_->add(key, 0)) {
      check("join");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
#endif
}

int64_t ProcessGroup::add(const std::string& key, int64_t delta) {
  Busy busy(busy_);
  check("add");
#ifdef TRAJMATCH_C10D
  int64_t value = 0;
  storeCall("add", [&] { value = store_->add(storeKey("counter/" + key), delta); });
  return value;
#else
  return 0;
#endif
}

std::vector<std::string> ProcessGroup::allGather(const std::string& key, const std::string& value) {
  Busy busy(busy_);
  check("allGather");
#ifdef TRAJMATCH_C10D
  int generation;
  {
    std::lock_guard<std::mutex> lock(generationsMutex_);
    generation = generations_["gather/" + key]++;
  }
  std::vector<std::string> all;
  storeCall("allGather", [&] {
    all = allGatherText(*store_, options_.rank, options_.worldSize, key + "/" + std::to_string(generation), value,
                        [this] { check("allGather"); });
  });
  return all;
#else
  return {value};
#endif
}

void ProcessGroup::fail(const std::string& message) {
  broken_ = true;
#ifdef TRAJMATCH_C10D
  if (!watchdog_ || closed_) return;
  try {
    watchdog_->announceFailure(message);
  } catch (const std::exception&) {
    // the store is gone too: the others find out through their own watchdogs
  }
#endif
}

void ProcessGroup::close() {
  if (closed_.exchange(true)) return;
#ifdef TRAJMATCH_C10D
  if (!watchdog_) return;
  if (busy_ > 0) broken_ = true;  // closed under a call in flight (another thread)
  if (!broken_ && !watchdog_->failure()) {
    try {
      watchdog_->leave();
      // Rank 0 hosts the store: it stays until the others have left, or for the timeout.
      const auto deadline = Clock::now() + options_.timeout;
      while (options_.rank == 0 && !watchdog_->othersLeft() && !watchdog_->failure() && Clock::now() < deadline) {
        std::this_thread::sleep_for(watchdog_->interval());
      }
      backend_.reset();  // nothing in flight: its threads join at once
    } catch (const std::exception&) {
      broken_ = true;
    }
  }
  if (broken_ || watchdog_->failure()) {
    // A collective may still be stuck with a dead rank: destroying the backend would join its
    // threads only after the timeout. It ends with the process instead.
    if (backend_) backend_.release();
  }
  watchdog_->stop();               // kept until destruction: failure() and tick() may still be called
  if (busy_ == 0) store_.reset();  // a call that began before close() may still use it
#endif
}

}  // namespace trajmatch::distributed
