// Liveness of the ranks of a group, through the store: each rank's watchdog thread bumps its own
// heartbeat counter every `interval` and reads everyone else's. A rank whose counter has not moved
// for `timeout` died or hangs; a rank that failed says so under its number; a rank that finished
// says so too and is no longer watched. The first such event is this rank's failure, named by rank.
//
// A hang of the caller's own event loop counts too: once tick() has been called, the heartbeat
// stops when tick() has not been called for `timeout`, so that the others see this rank as hung.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "distributed/c10d_compat.h"

namespace trajmatch::distributed {

#ifdef TRAJMATCH_C10D

class Watchdog {
 public:
  // Starts the thread. `store` should be a connection of its own (the thread may block in it).
  // `where` names the store in messages.
  Watchdog(c10::intrusive_ptr<c10d::Store> store, int rank, int worldSize, std::chrono::milliseconds timeout,
           std::string where);
  ~Watchdog();  // stop()

  // Stops the thread; one stuck in the store (rank 0 gone) is left to end with the process.
  // failure() still tells what was seen.
  void stop();

  // The first failure seen: a rank that died, hung or failed, or the store gone.
  std::optional<std::string> failure() const;
  // Waits up to `within` for a failure to be seen (used after a collective failed, to name the rank).
  std::optional<std::string> awaitFailure(std::chrono::milliseconds within) const;
  // The caller's event loop is alive.
  void tick();
  // Tells the other ranks that this one fails, with the reason.
  void announceFailure(const std::string& message);
  // Tells the other ranks that this one is done; it is no longer watched, nor does it beat.
  void leave();
  // Every other rank has left (or failed).
  bool othersLeft() const;

  std::chrono::milliseconds interval() const { return interval_; }

 private:
  struct State;
  static void run(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
};

#endif  // TRAJMATCH_C10D

}  // namespace trajmatch::distributed
