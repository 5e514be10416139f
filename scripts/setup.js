#!/usr/bin/env node
'use strict';
// Set-up of what the project needs: a libtorch for the native build, and the default dataset.
// On Debian/Ubuntu, as root, it installs the distribution's libtorch-dev when no other libtorch is
// found, and dataset-fashion-mnist when missing; elsewhere it says how to provide them.
const fs = require('fs');
const { execFileSync } = require('child_process');
const { findLibtorch, torchVersion, LibtorchNotFound, HOW_TO_PROVIDE } = require('./libtorch');

function isDebianLike() {
  return fs.existsSync('/etc/debian_version') && fs.existsSync('/usr/bin/apt-get');
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Installs Debian packages with apt-get, refreshing the package lists once if they are stale. */
function aptInstall(packages, log) {
  log(`trajmatch: installing ${packages.join(' ')} with apt-get`);
  const run = (args) => execFileSync('apt-get', args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const install = ['install', '-y', '-q', '--no-install-recommends', ...packages];
  try {
    run(install);
  } catch {
    run(['update', '-q']);
    run(install);
  }
}

/**
 * Debian's libtorch links the generic libblas.so.3, which is the slow reference BLAS unless an
 * optimised one is installed (libtorch1.13 recommends OpenBLAS, which is many times faster).
 */
function hasReferenceBlasOnly() {
  try {
    const target = fs.realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
    return target.includes('/blas/');
  } catch {
    return false; // not the Debian amd64 layout: leave the BLAS alone
  }
}

/**
 * Debian's libtorch-dev ships c10d's headers but not gloo's, which its ProcessGroupGloo.hpp includes:
 * the distributed engine's CPU backend (native/distributed) needs libgloo-dev to build.
 */
function lacksGlooHeaders() {
  return !fs.existsSync('/usr/include/gloo/config.h');
}

/** The libtorch to build against, installing Debian's when allowed and needed. Throws LibtorchNotFound. */
function ensureLibtorch({ log = console.log } = {}) {
  let found = findLibtorch();
  const canInstall = isDebianLike() && isRoot();
  if (!found && canInstall) {
    aptInstall(['libtorch-dev', 'libopenblas0-pthread', 'libgloo-dev'], log);
    found = findLibtorch();
  } else if (found && found.source === 'the system libtorch' && canInstall) {
    const missing = [...(hasReferenceBlasOnly() ? ['libopenblas0-pthread'] : []), ...(lacksGlooHeaders() ? ['libgloo-dev'] : [])];
    if (missing.length > 0) aptInstall(missing, log);
  }
  if (!found) {
    throw new LibtorchNotFound(`trajmatch: no libtorch found.\n${HOW_TO_PROVIDE}`);
  }
  found.version = torchVersion(found.torchDir);
  return found;
}

function hasCommand(cmd) {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** cmake and a C++ compiler, installed from Debian's packages when allowed and missing. */
function ensureBuildTools({ log = console.log } = {}) {
  const missing = [['cmake', 'cmake'], ['c++', 'g++']].filter(([cmd]) => !hasCommand(cmd));
  if (missing.length === 0) return;
  if (isDebianLike() && isRoot()) {
    aptInstall(missing.map(([, pkg]) => pkg), log);
    return;
  }
  throw new Error(`trajmatch: the native build needs ${missing.map(([cmd]) => cmd).join(' and ')} (CMake 3.18+ and a C++17 compiler); install them and run npm install again`);
}

const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/**
 * The default dataset, Fashion-MNIST, from Debian's dataset-fashion-mnist. Returns whether it is in
 * place; elsewhere (not Debian, not root) the data commands say how to point at a copy.
 */
function ensureDefaultDataset({ log = console.log } = {}) {
  const present = () => fs.existsSync(`${FASHION_MNIST}/train-images-idx3-ubyte.gz`);
  if (present()) return true;
  if (!isDebianLike() || !isRoot()) {
    log(`trajmatch: Fashion-MNIST is not in ${FASHION_MNIST}; install Debian's dataset-fashion-mnist or pass --data-path`);
    return false;
  }
  aptInstall(['dataset-fashion-mnist'], log);
  return present();
}

module.exports = { ensureLibtorch, ensureBuildTools, ensureDefaultDataset, aptInstall, isDebianLike, isRoot };

if (require.main === module) {
  try {
    ensureBuildTools();
    const t = ensureLibtorch();
    console.log(`trajmatch: libtorch ${t.version} from ${t.source} (${t.torchDir})`);
    if (ensureDefaultDataset()) console.log('trajmatch: Fashion-MNIST in /usr/share/datasets/fashion-mnist');
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
