'use strict';
// Finds the libtorch to build against, in a fixed order, and inspects what each one is (version,
// C++ ABI, CUDA or not, complete or not). scripts/setup.js decides among them and says why.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const MIN_VERSION = '1.13.0';

const HOW_TO_PROVIDE = [
  'Provide libtorch in one of these ways:',
  "  1. let npm install download PyTorch's prebuilt libtorch into ~/.cache/trajmatch (needs https://download.pytorch.org,",
  '     or a copy of it named by TRAJMATCH_LIBTORCH_MIRROR; TRAJMATCH_LIBTORCH_VERSION / _VARIANT choose the build,',
  '     TRAJMATCH_LIBTORCH_SHA256 gives the digest of a build that has none pinned; TRAJMATCH_NO_DOWNLOAD=1 forbids it)',
  '  2. an unzipped prebuilt libtorch from https://pytorch.org (cxx11 ABI, CPU or CUDA): LIBTORCH=/path/to/libtorch npm install',
  '  3. a PyTorch installed for python3 (pip install torch): the build uses its bundled libtorch',
  '  4. the distribution package: sudo apt-get install libtorch-dev (Debian 12+, Ubuntu 23.04+)',
  'A CMake prefix (LIBTORCH_CMAKE_PREFIX) or the folder of TorchConfig.cmake (Torch_DIR) also work. See binding.gyp.md.',
].join('\n');

class LibtorchNotFound extends Error {}

/** The folder holding TorchConfig.cmake under a CMake prefix, or null. */
function torchDirUnderPrefix(prefix) {
  const candidates = [path.join(prefix, 'Torch'), path.join(prefix, 'share', 'cmake', 'Torch'), path.join(prefix, 'lib', 'cmake', 'Torch')];
  const libDir = path.join(prefix, 'lib');
  if (fs.existsSync(libDir)) {
    for (const entry of fs.readdirSync(libDir)) candidates.push(path.join(libDir, entry, 'cmake', 'Torch'));
  }
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'TorchConfig.cmake'))) || null;
}

/** A choice given by an environment variable must be right: a wrong one is an error, not a fall-through. */
function fromEnv(name, value, resolve, expected) {
  const dir = resolve(path.resolve(value));
  if (!dir) throw new LibtorchNotFound(`${name}=${value} does not hold a libtorch: expected ${expected}.\n${HOW_TO_PROVIDE}`);
  return { source: name, torchDir: dir, prefix: path.resolve(value) };
}

function fromPython(env) {
  let prefix;
  try {
    prefix = execFileSync('python3', ['-c', 'import torch.utils; print(torch.utils.cmake_prefix_path)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 120000,
      env,
    }).trim();
  } catch {
    return null; // no python3, or no torch in it
  }
  const dir = prefix && torchDirUnderPrefix(prefix);
  return dir ? { source: 'the torch of python3', torchDir: dir, prefix } : null;
}

function fromSystem() {
  for (const prefix of ['/usr', '/usr/local']) {
    const dir = torchDirUnderPrefix(prefix);
    if (dir) return { source: 'the system libtorch', torchDir: dir, prefix };
  }
  return null;
}

/** The libtorch named by LIBTORCH_CMAKE_PREFIX, LIBTORCH or Torch_DIR (in that order), or null. Throws for a wrong one. */
function findExplicit(env = process.env) {
  if (env.LIBTORCH_CMAKE_PREFIX) {
    return fromEnv(
      'LIBTORCH_CMAKE_PREFIX',
      env.LIBTORCH_CMAKE_PREFIX,
      torchDirUnderPrefix,
      'a CMake prefix with Torch/TorchConfig.cmake (torch.utils.cmake_prefix_path)',
    );
  }
  if (env.LIBTORCH) {
    return fromEnv('LIBTORCH', env.LIBTORCH, torchDirUnderPrefix, 'the root of an unzipped libtorch, with share/cmake/Torch/TorchConfig.cmake');
  }
  if (env.Torch_DIR) {
    return fromEnv('Torch_DIR', env.Torch_DIR, (d) => (fs.existsSync(path.join(d, 'TorchConfig.cmake')) ? d : null), 'the folder that holds TorchConfig.cmake');
  }
  return null;
}

/** The libtorch installs found without being named: python3's torch, then the system package. */
function findInstalled(env = process.env) {
  return [fromPython(env), fromSystem()].filter(Boolean);
}

/**
 * The libtorch to use: LIBTORCH_CMAKE_PREFIX, LIBTORCH, Torch_DIR, python3's torch, the system package.
 * Returns {source, torchDir, prefix} or null when none is found.
 */
function findLibtorch(env = process.env) {
  return findExplicit(env) || findInstalled(env)[0] || null;
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The libtorch version a TorchConfigVersion.cmake declares, or 'unknown'. */
function torchVersion(torchDir) {
  const m = (readText(path.join(torchDir, 'TorchConfigVersion.cmake')) || '').match(/PACKAGE_VERSION\s+"([^"]+)"/);
  return m ? m[1] : 'unknown';
}

const REQUIRED_LIBS = ['libc10.so', 'libtorch_cpu.so', 'libtorch.so'];

/**
 * What a libtorch is, from its files: { torchDir, installPrefix, libDir, version, cxx11Abi (true,
 * false or null when not said), cuda, missing (required files absent or dangling) }.
 */
function inspectLibtorch(torchDir) {
  const up = (n) => path.resolve(torchDir, ...Array(n).fill('..'));
  // share/cmake/Torch (zip, wheel) or lib/<triplet>/cmake/Torch (Debian): the prefix holds include/.
  const header = path.join('include', 'torch', 'csrc', 'api', 'include', 'torch', 'torch.h');
  const installPrefix = [up(3), up(4)].find((p) => fs.existsSync(path.join(p, header))) || up(3);
  const libDir =
    [path.join(installPrefix, 'lib'), up(2)].find((d) => fs.existsSync(path.join(d, 'libc10.so')) || fs.existsSync(path.join(d, 'libtorch_cpu.so'))) ||
    path.join(installPrefix, 'lib');
  let version = torchVersion(torchDir);
  if (version === 'unknown') {
    const build = readText(path.join(installPrefix, 'build-version'));
    if (build) version = build.trim().split('+')[0];
  }
  const config = readText(path.join(torchDir, 'TorchConfig.cmake')) || '';
  const abis = [...config.matchAll(/_GLIBCXX_USE_CXX11_ABI=([01])/g)].map((m) => m[1]);
  const cxx11Abi = abis.length === 0 ? null : !abis.includes('0');
  const cuda = ['libtorch_cuda.so', 'libtorch_cuda_cu.so', 'libc10_cuda.so'].some((f) => fs.existsSync(path.join(libDir, f)));
  const missing = REQUIRED_LIBS.filter((f) => !fs.existsSync(path.join(libDir, f))).map((f) => path.join(libDir, f));
  if (!fs.existsSync(path.join(installPrefix, header))) missing.push(path.join(installPrefix, header));
  return { torchDir, installPrefix, libDir, version, cxx11Abi, cuda, missing };
}

/** Why a libtorch cannot be used (too old, wrong ABI, incomplete), with what to do; null when it can. */
function usabilityProblem(info) {
  if (info.missing.length) {
    return (
      `it is incomplete: ${info.missing.slice(0, 3).join(', ')}${info.missing.length > 3 ? ', ...' : ''} missing or a broken link` +
      ' (a partial install or an unzip that failed); reinstall it'
    );
  }
  if (info.version === 'unknown')
    return 'its version is not said anywhere (no TorchConfigVersion.cmake, no build-version): it is not a libtorch install trajmatch can check';
  const { compareVersions } = require('./libtorch-prebuilt');
  if (compareVersions(info.version, MIN_VERSION) < 0) {
    return `libtorch ${info.version} is too old: trajmatch needs ${MIN_VERSION} or newer (it is tested with 1.13 and 2.6)`;
  }
  if (info.cxx11Abi === false) {
    return (
      `libtorch ${info.version} is built with the pre-C++11 ABI (_GLIBCXX_USE_CXX11_ABI=0); trajmatch builds against the C++11 ABI only:` +
      ' take the zip named "cxx11-abi" from pytorch.org, or a PyTorch 2.7+ wheel'
    );
  }
  return null;
}

/** A one-line description: "libtorch 2.6.0 (CUDA, C++11 ABI)". */
function describe(info) {
  return `libtorch ${info.version} (${info.cuda ? 'CUDA' : 'CPU-only'}, ${info.cxx11Abi === false ? 'pre-C++11' : 'C++11'} ABI)`;
}

module.exports = {
  findLibtorch,
  findExplicit,
  findInstalled,
  fromSystem,
  torchDirUnderPrefix,
  torchVersion,
  inspectLibtorch,
  usabilityProblem,
  describe,
  LibtorchNotFound,
  HOW_TO_PROVIDE,
  MIN_VERSION,
};
