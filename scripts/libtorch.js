'use strict';
// Finds the libtorch to build against, in a fixed order, and says which one it chose.
// Used by scripts/setup.js (which may install Debian's libtorch-dev) and scripts/build-native.js.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const HOW_TO_PROVIDE = [
  'Provide libtorch in one of three ways:',
  '  1. an unzipped prebuilt libtorch from https://pytorch.org (CPU or CUDA): LIBTORCH=/path/to/libtorch npm install',
  '  2. a PyTorch installed for python3 (pip install torch): the build uses its bundled libtorch',
  '  3. the distribution package: sudo apt-get install libtorch-dev (Debian 12+, Ubuntu 23.04+)',
  'A CMake prefix (LIBTORCH_CMAKE_PREFIX) or the folder of TorchConfig.cmake (Torch_DIR) also work.',
].join('\n');

class LibtorchNotFound extends Error {}

/** The folder holding TorchConfig.cmake under a CMake prefix, or null. */
function torchDirUnderPrefix(prefix) {
  const candidates = [
    path.join(prefix, 'Torch'),
    path.join(prefix, 'share', 'cmake', 'Torch'),
    path.join(prefix, 'lib', 'cmake', 'Torch'),
  ];
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

/**
 * The libtorch to use: LIBTORCH_CMAKE_PREFIX, LIBTORCH, Torch_DIR, python3's torch, the system package.
 * Returns {source, torchDir, prefix} or null when none is found.
 */
function findLibtorch(env = process.env) {
  if (env.LIBTORCH_CMAKE_PREFIX) {
    return fromEnv('LIBTORCH_CMAKE_PREFIX', env.LIBTORCH_CMAKE_PREFIX, torchDirUnderPrefix,
      'a CMake prefix with Torch/TorchConfig.cmake (torch.utils.cmake_prefix_path)');
  }
  if (env.LIBTORCH) {
    return fromEnv('LIBTORCH', env.LIBTORCH, torchDirUnderPrefix,
      'the root of an unzipped libtorch, with share/cmake/Torch/TorchConfig.cmake');
  }
  if (env.Torch_DIR) {
    return fromEnv('Torch_DIR', env.Torch_DIR,
      (d) => (fs.existsSync(path.join(d, 'TorchConfig.cmake')) ? d : null), 'the folder that holds TorchConfig.cmake');
  }
  return fromPython(env) || fromSystem();
}

/** The libtorch version a TorchConfigVersion.cmake declares, or 'unknown'. */
function torchVersion(torchDir) {
  try {
    const text = fs.readFileSync(path.join(torchDir, 'TorchConfigVersion.cmake'), 'utf8');
    const m = text.match(/PACKAGE_VERSION\s+"([^"]+)"/);
    return m ? m[1] : 'unknown';
  } catch {
    return 'unknown';
  }
}

module.exports = { findLibtorch, torchVersion, LibtorchNotFound, HOW_TO_PROVIDE };
