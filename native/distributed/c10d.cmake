# libtorch's distributed engine (c10d) for native/distributed: which parts of it this libtorch has.
# Included by CMakeLists.txt after find_package(Torch); defines on ${PROJECT_NAME}:
#   TRAJMATCH_C10D       TCPStore compiles and links (every libtorch built with USE_DISTRIBUTED)
#   TRAJMATCH_C10D_GLOO  ProcessGroupGloo too: needs gloo's headers, which libtorch's headers include
#                        but not every libtorch ships (the pytorch.org zip and the wheels have
#                        include/gloo; Debian's libtorch-dev does not: libgloo-dev has them)
#   TRAJMATCH_C10D_NCCL  ProcessGroupNCCL too: a CUDA libtorch and nccl.h (the wheels' nvidia-nccl
#                        package, the CUDA toolkit, or NCCL_INCLUDE_DIR / NCCL_ROOT)
# Each is checked by compiling and linking a small program, so a libtorch whose headers promise a
# backend its libraries lack builds without it, and says so, instead of failing to link.
include(CheckCXXSourceCompiles)

find_path(TM_GLOO_INCLUDE_DIR gloo/config.h HINTS ${TORCH_INCLUDE_DIRS} "${TORCH_INSTALL_PREFIX}/include")
set(TM_NCCL_HINTS ${TORCH_INCLUDE_DIRS} "${TORCH_INSTALL_PREFIX}/include" "$ENV{NCCL_INCLUDE_DIR}" "$ENV{NCCL_ROOT}/include"
  "${CUDA_TOOLKIT_ROOT_DIR}/include" "${CUDAToolkit_INCLUDE_DIRS}")
# A PyTorch wheel takes nccl.h from the nvidia-nccl wheel beside it: <site-packages>/nvidia/nccl/include.
get_filename_component(TM_SITE_PACKAGES "${TORCH_INSTALL_PREFIX}/.." ABSOLUTE)
list(APPEND TM_NCCL_HINTS "${TM_SITE_PACKAGES}/nvidia/nccl/include")
find_path(TM_NCCL_INCLUDE_DIR nccl.h HINTS ${TM_NCCL_HINTS})

set(TM_C10D_SAVED_INCLUDES "${CMAKE_REQUIRED_INCLUDES}")
set(TM_C10D_SAVED_LIBRARIES "${CMAKE_REQUIRED_LIBRARIES}")
set(TM_C10D_SAVED_FLAGS "${CMAKE_REQUIRED_FLAGS}")
set(TM_C10D_SAVED_DEFINITIONS "${CMAKE_REQUIRED_DEFINITIONS}")
set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS})
set(CMAKE_REQUIRED_LIBRARIES ${TORCH_LIBRARIES})
set(CMAKE_REQUIRED_FLAGS "${TORCH_CXX_FLAGS} -std=c++17")
set(CMAKE_REQUIRED_DEFINITIONS "")
set(CMAKE_REQUIRED_QUIET ON)

check_cxx_source_compiles("
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
int main() {
  c10d::TCPStoreOptions o;
  o.isServer = true;
  o.port = 0;
  c10d::TCPStore store(\"127.0.0.1\", o);
  return static_cast<int>(store.getPort() == 0);
}" TRAJMATCH_C10D)

if(TRAJMATCH_C10D AND TM_GLOO_INCLUDE_DIR)
  set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS} ${TM_GLOO_INCLUDE_DIR})
  set(CMAKE_REQUIRED_DEFINITIONS -DUSE_C10D_GLOO)
  check_cxx_source_compiles("
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
int main(int argc, char**) {
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(\"127.0.0.1\"));
  if (argc > 99) c10::make_intrusive<c10d::ProcessGroupGloo>(c10::intrusive_ptr<c10d::Store>(), 0, 1, options);
  return 0;
}" TRAJMATCH_C10D_GLOO)
endif()

if(TRAJMATCH_C10D AND TM_NCCL_INCLUDE_DIR AND TORCH_CUDA_LIBRARIES)
  set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS} ${TM_NCCL_INCLUDE_DIR})
  set(CMAKE_REQUIRED_DEFINITIONS -DUSE_C10D_NCCL)
  check_cxx_source_compiles("
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
int main(int argc, char**) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = std::chrono::milliseconds(1000);
  if (argc > 99) c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::intrusive_ptr<c10d::Store>(), 0, 1, options);
  return 0;
}" TRAJMATCH_C10D_NCCL)
endif()

set(CMAKE_REQUIRED_INCLUDES "${TM_C10D_SAVED_INCLUDES}")
set(CMAKE_REQUIRED_LIBRARIES "${TM_C10D_SAVED_LIBRARIES}")
set(CMAKE_REQUIRED_FLAGS "${TM_C10D_SAVED_FLAGS}")
set(CMAKE_REQUIRED_DEFINITIONS "${TM_C10D_SAVED_DEFINITIONS}")

foreach(TM_FLAG TRAJMATCH_C10D TRAJMATCH_C10D_GLOO TRAJMATCH_C10D_NCCL)
  if(${TM_FLAG})
    target_compile_definitions(${PROJECT_NAME} PRIVATE ${TM_FLAG})
  else()
    unset(${TM_FLAG} CACHE)  # checked again at the next build: after apt-get install libgloo-dev, say
  endif()
endforeach()
if(TRAJMATCH_C10D_GLOO)
  target_include_directories(${PROJECT_NAME} SYSTEM PRIVATE ${TM_GLOO_INCLUDE_DIR})
endif()
if(TRAJMATCH_C10D_NCCL)
  target_include_directories(${PROJECT_NAME} SYSTEM PRIVATE ${TM_NCCL_INCLUDE_DIR})
endif()
message(STATUS "trajmatch: c10d ${TRAJMATCH_C10D}, gloo ${TRAJMATCH_C10D_GLOO} (headers: ${TM_GLOO_INCLUDE_DIR}), "
  "nccl ${TRAJMATCH_C10D_NCCL} (nccl.h: ${TM_NCCL_INCLUDE_DIR})")
