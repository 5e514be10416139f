#!/usr/bin/env bash
# CI step: compile every native source (object files, no link; in the unity build's two batches)
# against the headers of a CUDA libtorch 2.x, with the CUDA-only code switched on. The headers come from Debian 13's
# libtorch-cuda-dev (contrib), downloaded with a private apt and unpacked with dpkg -x (nothing is
# installed); the CUDA toolkit headers from $CUDA_HOME (default /usr/local/cuda).
# What can be checked without a GPU is checked: that the C++ compiles there, not that it runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/steps/debian-apt.sh

CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
[ -f "$CUDA_HOME/include/cuda_runtime_api.h" ] || {
  echo "no CUDA toolkit headers in $CUDA_HOME/include (cuda_runtime_api.h): install the CUDA toolkit or set CUDA_HOME" >&2
  exit 1
}

# The .debs, downloaded once per machine (a new Debian revision is picked up when the cache is
# cleared): the CUDA libtorch, and gloo's and NCCL's headers for c10d's two backends
# (native/distributed), all unpacked into one folder.
debs=()
for pkg in libtorch-cuda-dev libgloo-dev libnccl-dev; do
  deb=$(ls "$TRIXIE_DEBS"/${pkg}_*.deb 2>/dev/null | tail -n 1 || true)
  if [ -z "$deb" ]; then
    echo "downloading Debian 13's $pkg"
    [ -n "${updated:-}" ] || { trixie_apt update >/dev/null; updated=1; }
    mkdir -p "$TRIXIE_DEBS"
    (cd "$TRIXIE_DEBS" && trixie_apt download "$pkg" >/dev/null)
    deb=$(ls "$TRIXIE_DEBS"/${pkg}_*.deb | tail -n 1)
  fi
  debs+=("$deb")
done
deb=${debs[0]}
root=$CI_CACHE/$(basename "$deb" .deb)-c10d
if [ ! -f "$root/.unpacked" ]; then
  rm -rf "$root" && mkdir -p "$root"
  for d in "${debs[@]}"; do dpkg -x "$d" "$root"; done
  touch "$root/.unpacked"
fi
inc=$root/usr/include
cmake_dir=$root/usr/lib/x86_64-linux-gnu/cmake
version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")/\1/p' "$cmake_dir/Torch/TorchConfigVersion.cmake")
[ -f "$inc/c10/cuda/CUDACachingAllocator.h" ] || { echo "$deb holds no c10/cuda headers: not a CUDA libtorch" >&2; exit 1; }

# Node-API headers (the project's own dependencies; no install scripts needed for headers).
[ -d node_modules/node-addon-api ] && [ -d node_modules/node-api-headers ] || npm ci --ignore-scripts --no-audit --no-fund >/dev/null

# The compile definitions a CMake build against this libtorch gets: the libtorch targets' own
# (read from its CMake package, so that they follow the package), the project's from CMakeLists.txt,
# and the CUDA-only switches CMakeLists.txt turns on for a CUDA libtorch.
torch_defs=$(sed -n 's/.*INTERFACE_COMPILE_DEFINITIONS "\([A-Z_0-9;]*\)".*/\1/p' "$cmake_dir/Caffe2/Caffe2Targets.cmake" | tr ';' '\n' | sort -u)
abi=$(sed -n 's/.*set(TORCH_CXX_FLAGS "\(-D_GLIBCXX_USE_CXX11_ABI=[01]\)").*/\1/p' "$cmake_dir/Torch/TorchConfig.cmake" | head -n 1)
defs=(${abi:--D_GLIBCXX_USE_CXX11_ABI=1})
for d in $torch_defs; do defs+=("-D$d"); done
defs+=(-DNAPI_VERSION=8 -DNODE_ADDON_API_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS)
cuda_only=(-DTRAJMATCH_CUDA_ALLOCATOR_STATS)   # native/core/device_memory.cc: the CUDA allocator's statistics
# native/distributed: c10d's NCCL backend. Its header pulls in ATen's CUDA context, which includes the
# CUDA math libraries' headers (cuSPARSE, cuBLAS, cuSOLVER); a toolkit without them cannot check it.
nccl_backend=1
for h in cusparse.h cublas_v2.h cusolverDn.h; do [ -f "$CUDA_HOME/include/$h" ] || nccl_backend=0; done
if [ $nccl_backend = 1 ]; then
  cuda_only+=(-DTRAJMATCH_C10D_NCCL)
else
  echo "note: $CUDA_HOME/include lacks the CUDA math libraries' headers (cusparse.h, cublas_v2.h, cusolverDn.h): the NCCL backend is compiled out, the rest is checked"
fi
defs+=("${cuda_only[@]}" -DTRAJMATCH_C10D -DTRAJMATCH_C10D_GLOO)   # c10d's TCPStore and Gloo backend, as c10d.cmake finds them

out=build/cuda-compile
rm -rf "$out" && mkdir -p "$out"
# The batches of CMakeLists.txt's unity build (TRAJMATCH_UNITY_BUILD): the kernels then the binding,
# each sorted, cut in two halves, each half one translation unit that includes its sources.
mapfile -t sources < <({ find native -name '*.cc' -not -path 'native/binding/*' | LC_ALL=C sort; find native/binding -name '*.cc' | LC_ALL=C sort; })
half=$(((${#sources[@]} + 1) / 2))
for b in 0 1; do
  printf '%s\n' "${sources[@]:$((b * half)):$half}" >"$out/unity_$b.list"
  while read -r src; do echo "#include \"$PWD/$src\""; done <"$out/unity_$b.list" >"$out/unity_$b.cc"
done
echo "compiling ${#sources[@]} native sources (in 2 batches, as the unity build) against libtorch $version (CUDA, $(basename "$deb")) with ${cuda_only[*]}"
export CXX=${CXX:-c++} INC=$inc CUDA_INC=$CUDA_HOME/include OUT=$out
export DEFS="${defs[*]}"
# -isystem for libtorch and CUDA, as CMake does for imported targets: their own warnings are not ours.
compile_batch() {
  local unit=$OUT/unity_$1.cc
  # shellcheck disable=SC2086
  "$CXX" -std=c++17 -O0 -fPIC -Wall -Wno-unused-parameter -isystem "$INC" -isystem "$INC/torch/csrc/api/include" -isystem "$CUDA_INC" $DEFS \
    -Inative -Inode_modules/node-addon-api -Inode_modules/node-api-headers/include \
    -c "$unit" -o "$unit.o" -MD -MF "$unit.d" \
    && sed 's/^/  ok /' "$OUT/unity_$1.list"
}
export -f compile_batch
printf '%s\n' 0 1 | xargs -P 2 -I{} bash -c 'compile_batch {}' || { echo "a native source does not compile against libtorch $version (CUDA): see the compiler output above" >&2; exit 1; }

# Every libtorch header must have come from the unpacked package, none from a libtorch the machine
# happens to have installed (Debian 12's 1.13 under /usr/include would otherwise fill any gap).
leaks=$(cat "$out"/*.d | tr ' \\' '\n\n' | grep -E '^/usr/include/(ATen|c10|torch|caffe2)/' | sort -u | head -n 5 || true)
if [ -n "$leaks" ]; then
  echo "headers were taken from the machine's own libtorch, not libtorch $version:" >&2
  echo "$leaks" >&2
  exit 1
fi
cuda_used=$(cat "$out"/*.d | tr ' \\' '\n\n' | grep -c "^$inc/c10/cuda/" || true)
[ "$cuda_used" -gt 0 ] || { echo "no c10/cuda header was compiled: the CUDA-only code was not switched on" >&2; exit 1; }
c10d_headers=(ProcessGroupGloo.hpp)
[ $nccl_backend = 0 ] || c10d_headers+=(ProcessGroupNCCL.hpp)
for h in "${c10d_headers[@]}"; do
  # (grep without -q: an early exit would fail the pipeline under pipefail)
  cat "$out"/*.d | tr ' \\' '\n\n' | grep -F -x "$inc/torch/csrc/distributed/c10d/$h" >/dev/null \
    || { echo "c10d's $h was not compiled: the distributed backends were not switched on" >&2; exit 1; }
done
cuda_version=$(sed -n 's/^#define CUDA_VERSION \([0-9]*\).*/\1/p' "$CUDA_HOME/include/cuda.h" 2>/dev/null | head -n 1)
echo "compiled ${#sources[@]} native sources into $(ls "$out"/*.o | wc -l) object files against libtorch $version (CUDA) and the CUDA ${cuda_version:-?} headers of $CUDA_HOME; $cuda_used c10/cuda header inclusions"
