#include "core/onednn.h"

#include <ATen/Context.h>
#include <ATen/Version.h>

#include <cstdlib>
#include <mutex>
#include <regex>

namespace trajmatch {

namespace {

// oneDNN releases that return wrong results on the CPU, with what was seen. 3.7.2 is the oneDNN of
// Debian 13's libtorch 2.6: on AMD EPYC (AVX-512) it returns NaN weight gradients from
// convolutions at random (hundreds of 3,000 backward passes of a small ConvNet), and, with two or
// more threads, NaN second-order gradients (the unrolled student) even when capped at AVX2; with
// oneDNN off, libtorch's own convolutions give none.
struct KnownBad {
  const char* version;
  const char* what;
};
constexpr KnownBad kKnownBad[] = {
    {"3.7.2", "returns NaN convolution gradients on AVX-512 and multi-threaded CPUs"},
};

std::string linkedVersion() {
  // at::show_config() lists "Intel(R) MKL-DNN v3.7.2" (or "oneDNN v...") when libtorch has it.
  static const std::regex pattern(R"((?:MKL-DNN|oneDNN) v([0-9]+(?:\.[0-9]+)*))");
  std::smatch m;
  const auto config = at::show_config();
  return std::regex_search(config, m, pattern) ? m[1].str() : std::string();
}

}  // namespace

const OneDnnState& configureOneDnn() {
  static OneDnnState state;
  static std::once_flag once;
  std::call_once(once, [] {
    state.version = linkedVersion();
    state.enabled = at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
    if (state.version.empty() || !at::hasMKLDNN()) {
      state.reason = "this libtorch has no oneDNN";
      state.enabled = false;
      return;
    }
    const char* forced = std::getenv("TRAJMATCH_ONEDNN");
    if (forced && *forced) {
      state.enabled = std::string(forced) != "0";
      state.reason = std::string("TRAJMATCH_ONEDNN=") + forced;
    } else {
      state.reason = "no known problem";
      for (const auto& bad : kKnownBad) {
        if (state.version == bad.version) {
          state.enabled = false;
          state.reason = std::string("oneDNN ") + bad.version + " " + bad.what + " (TRAJMATCH_ONEDNN=1 turns it on)";
        }
      }
    }
    at::globalContext().setUserEnabledMkldnn(state.enabled);
  });
  return state;
}

}  // namespace trajmatch
