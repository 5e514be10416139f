#include "distributed/rendezvous.h"

#include <map>
#include <stdexcept>
#include <thread>

#include "core/errors.h"

namespace trajmatch::distributed {

namespace {

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

// How often a waiting rank looks at the store: short next to any timeout, cheap for the store.
constexpr std::chrono::milliseconds kPoll{20};

std::string seconds(std::chrono::milliseconds ms) {
  const double s = static_cast<double>(ms.count()) / 1000.0;
  std::string out = std::to_string(s);
  out.erase(out.find_last_not_of('0') + 1);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out + " s";
}

std::string rankList(const std::vector<int>& ranks) {
  std::string out;
  for (size_t i = 0; i < ranks.size(); ++i) out += (i ? ", " : "") + std::to_string(ranks[i]);
  return out;
}

}  // namespace

std::string storeKey(const std::string& name) { return "trajmatch/" + name; }

std::string encodeOptions(const AgreedOptions& options) {
  std::string out;
  for (const auto& [name, value] : options) {
    out += std::to_string(name.size()) + ":" + name + std::to_string(value.size()) + ":" + value;
  }
  return out;
}

AgreedOptions decodeOptions(const std::string& text) {
  AgreedOptions out;
  size_t at = 0;
  const auto field = [&]() {
    const auto colon = text.find(':', at);
    if (colon == std::string::npos) throw std::runtime_error("rendezvous: a rank published malformed options");
    const auto length = std::stoul(text.substr(at, colon - at));
    if (colon + 1 + length > text.size()) throw std::runtime_error("rendezvous: a rank published malformed options");
    auto value = text.substr(colon + 1, length);
    at = colon + 1 + length;
    return value;
  };
  while (at < text.size()) {
    auto name = field();
    auto value = field();
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::string describeDisagreement(const AgreedOptions& a, int rankA, const AgreedOptions& b, int rankB) {
  const bool swap = rankB < rankA;
  const auto& first = swap ? b : a;
  const auto& second = swap ? a : b;
  const int r1 = swap ? rankB : rankA;
  const int r2 = swap ? rankA : rankB;
  std::map<std::string, std::string> other(second.begin(), second.end());
  std::vector<std::string> names;
  std::map<std::string, std::string> mine(first.begin(), first.end());
  for (const auto& [name, value] : first) names.push_back(name);
  for (const auto& [name, value] : second) {
    if (!mine.count(name)) names.push_back(name);
  }
  std::string out;
  for (const auto& name : names) {
    const auto x = mine.count(name) ? mine[name] : std::string("(not set)");
    const auto y = other.count(name) ? other[name] : std::string("(not set)");
    if (x == y) continue;
    out += (out.empty() ? "" : "; ") + name + " is " + x + " on rank " + std::to_string(r1) + " but " + y +
           " on rank " + std::to_string(r2);
  }
  return out;
}

#ifdef TRAJMATCH_C10D

namespace {

// How long rank 0 keeps the store up after a failed rendezvous, at most, for the others to read why.
constexpr auto kAbortLinger = std::chrono::seconds(5);

// A failed rendezvous ends on every process with the same reason. Each process that learns it
// acknowledges it; rank 0, which hosts the store, waits for every process that joined (duplicates
// included) to have done so before it closes the store, or the others would see a broken pipe
// instead of the reason. The wait is bounded: a process that died does not acknowledge.
[[noreturn]] void endRendezvous(c10d::Store& store, int rank, int worldSize, const std::string& message) {
  const auto ackKey = storeKey("rendezvous/abort-ack");
  store.add(ackKey, 1);
  if (rank == 0) {
    const auto deadline = std::chrono::steady_clock::now() + kAbortLinger;
    while (std::chrono::steady_clock::now() < deadline) {
      int64_t joined = 0;
      for (int r = 0; r < worldSize; ++r) joined += store.add(storeKey("rendezvous/rank/" + std::to_string(r)), 0);
      if (store.add(ackKey, 0) >= joined) break;
      std::this_thread::sleep_for(kPoll);
    }
  }
  throw std::runtime_error(message);
}

void meet(c10d::Store& store, int rank, int worldSize, const AgreedOptions& options, std::chrono::milliseconds timeout,
          const std::string& where) {
  const auto abortKey = storeKey("rendezvous/abort");
  const auto fail = [&](const std::string& message) {
    // The first rank to see the problem tells the others, who would otherwise wait for the timeout.
    store.set(abortKey, bytes(message));
    endRendezvous(store, rank, worldSize, message);
  };
  if (store.add(storeKey("rendezvous/rank/" + std::to_string(rank)), 1) > 1) {
    fail("rendezvous at " + where + ": rank " + std::to_string(rank) +
         " was started twice (two processes have RANK=" + std::to_string(rank) + ")");
  }
  store.set(storeKey("rendezvous/options/" + std::to_string(rank)), bytes(encodeOptions(options)));

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<bool> seen(worldSize, false);
  int missing = worldSize;
  while (true) {
    if (store.check({abortKey})) endRendezvous(store, rank, worldSize, text(store.get(abortKey)));
    for (int r = 0; r < worldSize; ++r) {
      const auto key = storeKey("rendezvous/options/" + std::to_string(r));
      if (seen[r] || !store.check({key})) continue;
      seen[r] = true;
      --missing;
      const auto diff = describeDisagreement(options, rank, decodeOptions(text(store.get(key))), r);
      if (!diff.empty()) fail("rendezvous at " + where + ": the ranks were started with different options: " + diff);
    }
    if (missing == 0) return;
    if (std::chrono::steady_clock::now() > deadline) {
      std::vector<int> absent;
      for (int r = 0; r < worldSize; ++r) {
        if (!seen[r]) absent.push_back(r);
      }
      fail("rendezvous at " + where + ": rank" + (absent.size() > 1 ? "s " : " ") + rankList(absent) +
           " of WORLD_SIZE " + std::to_string(worldSize) + " did not arrive within " + seconds(timeout) +
           " (were they started, with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE?)");
    }
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace

void rendezvous(c10d::Store& store, int rank, int worldSize, const AgreedOptions& options,
                std::chrono::milliseconds timeout, const std::string& where) {
  try {
    meet(store, rank, worldSize, options, timeout, where);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    if (message.rfind("rendezvous at ", 0) == 0) throw;
    // The store itself failed: its host, rank 0, gave up or died.
    throw std::runtime_error("rendezvous at " + where +
                             ": the store, hosted by rank 0, stopped answering (rank 0 gave up " +
                             "or died; see its error): " + describeException(e));
  }
}

std::vector<std::string> allGatherText(c10d::Store& store, int rank, int worldSize, const std::string& key,
                                       const std::string& value, const std::function<void()>& alive) {
  store.set(storeKey("gather/" + key + "/" + std::to_string(rank)), bytes(value));
  std::vector<std::string> out(worldSize);
  for (int r = 0; r < worldSize; ++r) {
    const auto k = storeKey("gather/" + key + "/" + std::to_string(r));
    while (!store.check({k})) {
      alive();
      std::this_thread::sleep_for(kPoll);
    }
    out[r] = text(store.get(k));
  }
  return out;
}

#endif  // TRAJMATCH_C10D

}  // namespace trajmatch::distributed
