// The rendezvous of a distributed run over c10d's key-value store: every rank checks in under its
// own number, publishes the options that all ranks must share, and waits for the others; a rank
// started twice, a rank missing after the timeout, or an option that differs between ranks is an
// error that names the ranks and the option, on every rank that sees it.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "distributed/c10d_compat.h"

namespace trajmatch::distributed {

// (name, value) pairs that must be equal on every rank, in the order they are reported.
using AgreedOptions = std::vector<std::pair<std::string, std::string>>;

// All keys of trajmatch live under this prefix of the store.
std::string storeKey(const std::string& name);

// Text encoding of options that survives any character in names and values.
std::string encodeOptions(const AgreedOptions& options);
AgreedOptions decodeOptions(const std::string& text);

// The differences between two ranks' options, as "NAME is A on rank I but B on rank J" clauses
// joined by "; " (lower rank first); empty when they agree. An option only one rank has counts
// as a difference ("(not set)").
std::string describeDisagreement(const AgreedOptions& a, int rankA, const AgreedOptions& b, int rankB);

#ifdef TRAJMATCH_C10D
// Checks this rank in and waits, polling, until every rank of the world has published options
// equal to `options` (which should include the world size). `where` names the store in messages
// ("127.0.0.1:29500"). Throws std::runtime_error, and tells the other ranks through the store, on
// a duplicate rank or differing options; throws after `timeout` naming the ranks that never came.
void rendezvous(c10d::Store& store, int rank, int worldSize, const AgreedOptions& options,
                std::chrono::milliseconds timeout, const std::string& where);

// Every rank's `value` under `key`, in rank order, once all have published theirs. `alive` is
// polled while waiting and throws when a rank is known to be gone.
std::vector<std::string> allGatherText(c10d::Store& store, int rank, int worldSize, const std::string& key,
                                       const std::string& value, const std::function<void()>& alive);
#endif

}  // namespace trajmatch::distributed
