// Which devices this libtorch can run on, and parsing of device names ("cpu", "cuda", "cuda:1").
#pragma once

#include <torch/torch.h>

#include <string>

namespace trajmatch {

struct BackendInfo {
  std::string torchVersion;  // e.g. "1.13.0"
  bool builtWithCuda;        // libtorch_cuda is linked in
  bool cudaAvailable;        // ... and at least one CUDA device is visible
  int64_t cudaDeviceCount;
  bool cxx11Abi;              // _GLIBCXX_USE_CXX11_ABI of this build
  int64_t threads;            // intra-op CPU threads
  std::string oneDnnVersion;  // the oneDNN libtorch uses for CPU convolutions ("" without one)
  bool oneDnnEnabled;         // ... and whether the engine uses it (see core/onednn.h)
  std::string oneDnnReason;
  int64_t openBlasThreads;  // OpenBLAS's own thread count (-1 without OpenBLAS; see initThreads)
  std::string openBlasReason;
};

BackendInfo backendInfo();

// Gives the calling thread libtorch's intra-op thread count (OMP_NUM_THREADS, else one per core).
// OpenMP keeps this per thread, and a thread that never calls it runs ops on one core. Also, once,
// OpenBLAS (where libtorch uses it) to one thread unless OPENBLAS_NUM_THREADS says otherwise.
void initThreads();

// Parses "cpu", "cuda" or "cuda:N". Throws std::invalid_argument naming the device when the
// name is malformed or when CUDA is asked for and this build or machine has none.
torch::Device parseDevice(const std::string& name);

// The canonical name of a device: "cpu" or "cuda:N".
std::string deviceName(const torch::Device& device);

}  // namespace trajmatch
