#include "core/device.h"

#include <torch/version.h>

#include <cstdlib>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

#include "core/onednn.h"

namespace trajmatch {

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
