// Everything that differs in libtorch's distributed engine (c10d) between libtorch 1.13 and 2.x,
// in one place, so that the rest of native/distributed reads the same against both.
//
// What CMake tells this header (native/distributed/c10d.cmake):
//   TRAJMATCH_C10D        c10d's TCPStore compiles and links against this libtorch
//   TRAJMATCH_C10D_GLOO   ... and ProcessGroupGloo with the gloo headers (CPU collectives)
//   TRAJMATCH_C10D_NCCL   ... and ProcessGroupNCCL with nccl.h (a CUDA build of libtorch)
#pragma once

#include <torch/version.h>

#include <chrono>
#include <cstdint>

#ifdef TRAJMATCH_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

// libtorch's headers hide each backend behind the macro its own build defines.
#ifdef TRAJMATCH_C10D_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef TRAJMATCH_C10D_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace trajmatch::distributed::compat {

// The class a backend (Gloo, NCCL) derives from: ProcessGroup in 1.x; 2.0 split it into Backend
// (one communication library) under a ProcessGroup (a dispatcher over backends).
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

// TCPStore's options. Both versions have these fields; 2.x adds useLibUV (on by default since 2.4,
// kept) and masterListenFd (unused). Workers are not counted by the store: the rendezvous of
// native/distributed waits for the ranks itself, so that it can say which ones are missing.
inline c10d::TCPStoreOptions storeOptions(std::uint16_t port, bool isServer, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions o;
  o.port = port;
  o.isServer = isServer;
  o.waitWorkers = false;
  o.timeout = timeout;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  // 2.4+ asks for the libuv server by default, which Debian's libtorch 2.6 is built without (the
  // store then refuses to start); the classic server is in every build.
  o.useLibUV = false;
#endif
  return o;
}

#ifdef TRAJMATCH_C10D_NCCL
// ProcessGroupNCCL's options: the timeout lives in ProcessGroup::Options (1.x) or Backend::Options
// (2.x), which both call it `timeout`.
inline c10::intrusive_ptr<c10d::ProcessGroupNCCL::Options> ncclOptions(std::chrono::milliseconds timeout) {
  auto o = c10d::ProcessGroupNCCL::Options::create();
  o->timeout = timeout;
  return o;
}
#endif

}  // namespace trajmatch::distributed::compat

#endif  // TRAJMATCH_C10D
