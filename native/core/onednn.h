// oneDNN (formerly MKL-DNN), which libtorch uses for CPU convolutions: on, or off where the
// libtorch at hand links a oneDNN known to return wrong results.
#pragma once

#include <string>

namespace trajmatch {

struct OneDnnState {
  std::string version;  // "3.7.2", or "" when this libtorch has no oneDNN
  bool enabled;
  std::string reason;  // why it is on or off, for backendInfo and `npm run info`
};

// Decided once, when the addon loads: TRAJMATCH_ONEDNN=0 or 1 forces it off or on; otherwise it is
// off for the oneDNN releases below and on for every other.
const OneDnnState& configureOneDnn();

}  // namespace trajmatch
