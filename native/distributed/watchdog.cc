#include "distributed/watchdog.h"

#include <algorithm>

#include "core/errors.h"
#include "distributed/rendezvous.h"

namespace trajmatch::distributed {

#ifdef TRAJMATCH_C10D

namespace {

using Clock = std::chrono::steady_clock;

// Heartbeat counters jump by these marks when a rank leaves or fails: one store read tells a
// watcher whether the rank is alive (the count moves), done or failed.
constexpr int64_t kLeft = int64_t{1} << 40;
constexpr int64_t kFailed = int64_t{1} << 50;

std::string heartbeatKey(int rank) { return storeKey("heartbeat/" + std::to_string(rank)); }
std::string failedKey(int rank) { return storeKey("failed/" + std::to_string(rank)); }

std::string secondsText(Clock::duration d) {
  const auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

struct Watchdog::State {
  c10::intrusive_ptr<c10d::Store> store;
  int rank;
  int worldSize;
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds interval;
  std::string where;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  bool stop = false;
  bool exited = false;
  bool left = false;
  bool othersLeft = false;
  std::optional<std::string> failure;
  Clock::time_point lastRound = Clock::now();

  std::atomic<bool> ticking{false};
  std::atomic<int64_t> lastTick{0};  // Clock ticks

  void setFailure(const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!failure) failure = message;
    changed.notify_all();
  }
};

Watchdog::Watchdog(c10::intrusive_ptr<c10d::Store> store, int rank, int worldSize, std::chrono::milliseconds timeout,
                   std::string where)
    : state_(std::make_shared<State>()),
      interval_(std::clamp(timeout / 10, std::chrono::milliseconds(50), std::chrono::milliseconds(1000))) {
  state_->store = std::move(store);
  state_->rank = rank;
  state_->worldSize = worldSize;
  state_->timeout = timeout;
  state_->interval = interval_;
  state_->where = std::move(where);
  state_->othersLeft = worldSize == 1;
  thread_ = std::thread(run, state_);
}

Watchdog::~Watchdog() { stop(); }

void Watchdog::stop() {
  if (!thread_.joinable()) return;
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->stop = true;
  state_->changed.notify_all();
  // A thread blocked in the store (its host gone) would hold us up to the store's timeout.
  const bool exited = state_->changed.wait_for(lock, 3 * interval_, [&] { return state_->exited; });
  lock.unlock();
  if (exited) thread_.join();
  else thread_.detach();  // it owns its state; it ends when the store call returns or the process exits
}

void Watchdog::run(std::shared_ptr<State> s) {
  std::vector<int64_t> last(s->worldSize, -1);
  std::vector<Clock::time_point> seen(s->worldSize, Clock::now());
  std::vector<bool> gone(s->worldSize, false);
  gone[s->rank] = true;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(s->mutex);
      if (s->changed.wait_for(lock, s->interval, [&] { return s->stop; })) break;
    }
    try {
      const auto now = Clock::now();
      bool beat;
      {
        std::lock_guard<std::mutex> lock(s->mutex);
        beat = !s->left;
      }
      if (beat && s->ticking.load()) {
        beat = now - Clock::time_point(Clock::duration(s->lastTick.load())) <= s->timeout;
      }
      if (beat) s->store->add(heartbeatKey(s->rank), 1);
      bool allGone = true;
      for (int r = 0; r < s->worldSize; ++r) {
        if (gone[r]) continue;
        const auto value = s->store->add(heartbeatKey(r), 0);
        if (value >= kFailed) {
          const auto why = s->store->get(failedKey(r));
          s->setFailure("rank " + std::to_string(r) + " failed: " + std::string(why.begin(), why.end()));
          gone[r] = true;
        } else if (value >= kLeft) {
          gone[r] = true;
        } else if (value != last[r]) {
          last[r] = value;
          seen[r] = now;
          allGone = false;
        } else if (now - seen[r] > s->timeout) {
          s->setFailure("rank " + std::to_string(r) + " sent no heartbeat for " + secondsText(now - seen[r]) +
                        ": it died or hangs");
          allGone = false;
        } else {
          allGone = false;
        }
      }
      std::lock_guard<std::mutex> lock(s->mutex);
      s->lastRound = Clock::now();
      s->othersLeft = allGone;
    } catch (const std::exception& e) {
      s->setFailure(s->rank == 0
                        ? "the rendezvous store failed: " + describeException(e)
                        : "the rendezvous store at " + s->where +
                              ", hosted by rank 0, stopped answering (rank 0 died or hangs): " + describeException(e));
    }
  }
  std::lock_guard<std::mutex> lock(s->mutex);
  s->exited = true;
  s->changed.notify_all();
}

std::optional<std::string> Watchdog::failure() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->failure) return state_->failure;
  // A store call that never returns stops the rounds without an error of its own.
  const auto silent = Clock::now() - state_->lastRound;
  if (!state_->stop && silent > state_->timeout + 2 * interval_) {
    return "the rendezvous store at " + state_->where + " stopped answering for " + secondsText(silent) +
           " (rank 0, its host, died or hangs)";
  }
  return std::nullopt;
}

std::optional<std::string> Watchdog::awaitFailure(std::chrono::milliseconds within) const {
  const auto deadline = Clock::now() + within;
  while (true) {
    if (auto f = failure()) return f;  // a failure seen, or the store silent for too long
    if (Clock::now() >= deadline) return std::nullopt;
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->changed.wait_for(lock, interval_, [&] { return state_->failure.has_value(); });
  }
}

void Watchdog::tick() {
  state_->lastTick.store(Clock::now().time_since_epoch().count());
  state_->ticking.store(true);
}

void Watchdog::announceFailure(const std::string& message) {
  state_->store->set(failedKey(state_->rank), std::vector<uint8_t>(message.begin(), message.end()));
  state_->store->add(heartbeatKey(state_->rank), kFailed);
}

void Watchdog::leave() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->left) return;
    state_->left = true;
  }
  state_->store->add(heartbeatKey(state_->rank), kLeft);
}

bool Watchdog::othersLeft() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->othersLeft;
}

#endif  // TRAJMATCH_C10D

}  // namespace trajmatch::distributed
