#include "core/device.h"

#include <dlfcn.h>
#include <link.h>
#include <torch/version.h>

#include <cstdlib>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

#include "core/onednn.h"

namespace trajmatch {

namespace {

// OpenBLAS's pthread build (Debian's default BLAS) keeps a pool of its own beside libtorch's OpenMP
// threads, and its idle workers spin in sched_yield for a while after every call: on a machine
// with few cores they take the cores libtorch's threads need (16% of all cycles of a training run
// went to sched_yield on 2 cores). libtorch already splits its ops over every core (at::parallel_for, which also
// calls BLAS per chunk), so BLAS runs in the calling thread unless the user set its thread count.
struct BlasThreads {
  int threads = -1;  // -1: no OpenBLAS in the process
  std::string reason;
};

int limitOpenBlas(dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<BlasThreads*>(data);
  if (out->threads >= 0 || info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') return 0;
  void* lib = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) return 0;
  using SetThreads = void (*)(int);
  using GetThreads = int (*)();
  auto set = reinterpret_cast<SetThreads>(dlsym(lib, "openblas_set_num_threads"));
  auto get = reinterpret_cast<GetThreads>(dlsym(lib, "openblas_get_num_threads"));
  if (set && get) {
    if (std::getenv("OPENBLAS_NUM_THREADS") || std::getenv("GOTO_NUM_THREADS")) {
      out->reason = "OPENBLAS_NUM_THREADS / GOTO_NUM_THREADS";
    } else {
      set(1);
      out->reason = "one thread: libtorch parallelises its ops itself";
    }
    out->threads = get();
  }
  dlclose(lib);
  return out->threads >= 0 ? 1 : 0;
}

const BlasThreads& configureBlasThreads() {
  static BlasThreads state;
  static std::once_flag once;
  std::call_once(once, [] { dl_iterate_phdr(limitOpenBlas, &state); });
  return state;
}

}  // namespace

BackendInfo backendInfo() {
  BackendInfo info;
  info.torchVersion = TORCH_VERSION;
  info.builtWithCuda = at::hasCUDA();
  info.cudaAvailable = torch::cuda::is_available();
  info.cudaDeviceCount = info.cudaAvailable ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
#if defined(_GLIBCXX_USE_CXX11_ABI)
  info.cxx11Abi = _GLIBCXX_USE_CXX11_ABI != 0;
#else
  info.cxx11Abi = false;
#endif
  info.threads = at::get_num_threads();
  const auto& onednn = configureOneDnn();
  info.oneDnnVersion = onednn.version;
  info.oneDnnEnabled = onednn.enabled;
  info.oneDnnReason = onednn.reason;
  const auto& blas = configureBlasThreads();
  info.openBlasThreads = blas.threads;
  info.openBlasReason = blas.reason;
  return info;
}

void initThreads() {
  // libtorch's default counts physical cores through cpuinfo, which reports 1 on some VMs whose
  // vCPUs are real cores; unless the user set a count, use every core the OS offers.
  static std::once_flag once;
  std::call_once(once, [] {
    if (!std::getenv("OMP_NUM_THREADS") && !std::getenv("MKL_NUM_THREADS")) {
      const int cores = static_cast<int>(std::thread::hardware_concurrency());
      if (cores > at::get_num_threads()) at::set_num_threads(cores);
    }
  });
  at::init_num_threads();
  configureBlasThreads();
}

torch::Device parseDevice(const std::string& name) {
  static const std::regex pattern("^(cpu|cuda)(?::([0-9]+))?$");
  std::smatch m;
  if (!std::regex_match(name, m, pattern)) {
    throw std::invalid_argument("unknown device '" + name + "': expected 'cpu', 'cuda' or 'cuda:N'");
  }
  if (m[1] == "cpu") {
    if (m[2].matched) throw std::invalid_argument("unknown device '" + name + "': the CPU has no index");
    return torch::Device(torch::kCPU);
  }
  if (!at::hasCUDA()) {
    throw std::invalid_argument("device '" + name +
                                "' was requested, but this libtorch (" TORCH_VERSION
                                ") was built without CUDA; build against a CUDA libtorch (see binding.gyp.md)");
  }
  const int64_t count = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  if (count == 0) {
    throw std::invalid_argument("device '" + name + "' was requested, but no CUDA device is visible on this machine");
  }
  const int64_t index = m[2].matched ? std::stoll(m[2].str()) : 0;
  if (index >= count) {
    throw std::invalid_argument("device '" + name + "' was requested, but only " + std::to_string(count) +
                                " CUDA device(s) are visible (cuda:0 .. cuda:" + std::to_string(count - 1) + ")");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string deviceName(const torch::Device& device) {
  if (device.is_cpu()) return "cpu";
  return device.str().find(':') == std::string::npos ? device.str() + ":0" : device.str();
}

}  // namespace trajmatch
