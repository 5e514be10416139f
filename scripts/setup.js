#!/usr/bin/env node
'use strict';
// Set-up of what the project needs: a libtorch for the native build, and the default dataset.
// The libtorch is one that is named or installed, else (Debian/Ubuntu as root, no GPU) Debian's
// libtorch-dev, else PyTorch's prebuilt one, downloaded into the per-user cache (ensureLibtorch
// says which and why). On Debian/Ubuntu, as root, it installs
// dataset-fashion-mnist when missing; elsewhere the default job downloads Fashion-MNIST itself.
const fs = require('fs');
const { execFileSync } = require('child_process');
const {
  findExplicit,
  findInstalled,
  fromSystem,
  torchDirUnderPrefix,
  inspectLibtorch,
  usabilityProblem,
  describe,
  LibtorchNotFound,
  HOW_TO_PROVIDE,
} = require('./libtorch');
const { detectDriver, readPrebuiltEnv, choosePrebuilt, prebuiltDir, fetchPrebuilt } = require('./libtorch-prebuilt');
const { cacheDir } = require('./download');

function isDebianLike() {
  return fs.existsSync('/etc/debian_version') && fs.existsSync('/usr/bin/apt-get');
}

/** An environment flag: set and not '', '0' or 'false'. */
function flag(value) {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Installs Debian packages with apt-get, refreshing the package lists once if they are stale. */
function aptInstall(packages, log) {
  log(`trajmatch: installing ${packages.join(' ')} with apt-get`);
  const run = (args) =>
    execFileSync('apt-get', args, {
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

/**
 * The libtorch to build against, and why it was chosen. In order: one named by LIBTORCH_CMAKE_PREFIX,
 * LIBTORCH or Torch_DIR; an installed one (python3's torch, the system package); the prebuilt one
 * already in the per-user cache; a download of the prebuilt one that fits this machine
 * (TRAJMATCH_LIBTORCH_PREBUILT=1 goes straight to these two); on Debian/Ubuntu as root without a
 * GPU, Debian's libtorch-dev is installed with apt-get before a download is tried, and said. On a machine with an NVIDIA GPU an installed CPU-only libtorch is passed over for a
 * CUDA one (TRAJMATCH_LIBTORCH_VARIANT=cpu keeps it). Every libtorch is checked (version,
 * C++ ABI, complete): a bad one that was named is an error, a bad one that was found is skipped, and
 * both are said. Throws LibtorchNotFound with the ways to provide one.
 */
async function ensureLibtorch({ log = console.log, env = process.env } = {}) {
  const driver = detectDriver(env);
  const { want } = readPrebuiltEnv(env);
  const wantCuda = want === 'cuda' || /^cu\d+$/.test(want);
  const gpuText = driver ? `this machine has an NVIDIA GPU (driver ${driver})` : '';
  const chosen = (found, info, why) => ({ ...found, ...info, why, description: describe(info) });

  const explicit = findExplicit(env);
  if (explicit) {
    const info = inspectLibtorch(explicit.torchDir);
    const problem = usabilityProblem(info);
    const named = `${explicit.source}=${env[explicit.source]}`;
    if (problem) throw new LibtorchNotFound(`trajmatch: ${named}: ${problem}.\n${HOW_TO_PROVIDE}`);
    if (wantCuda && !info.cuda) {
      throw new LibtorchNotFound(
        `trajmatch: ${named} is ${describe(info)}, but TRAJMATCH_LIBTORCH_VARIANT=${want} asks for CUDA: point ${explicit.source} at a CUDA libtorch, or unset it to let npm install download one`,
      );
    }
    if (driver && !info.cuda && want !== 'cpu') {
      log(
        `trajmatch: warning: ${named} is ${describe(info)} but ${gpuText}: the engine will run on the CPU only. Point ${explicit.source} at a CUDA libtorch, or unset it to let npm install take a CUDA one.`,
      );
    }
    return chosen(explicit, info, `${explicit.source} is set`);
  }

  const skipped = [];
  const prebuiltOnly = flag(env.TRAJMATCH_LIBTORCH_PREBUILT);
  for (const found of prebuiltOnly ? [] : findInstalled(env)) {
    const info = inspectLibtorch(found.torchDir);
    const problem = usabilityProblem(info);
    if (problem) {
      skipped.push(`${found.source} (${found.torchDir}): ${problem}`);
    } else if (!info.cuda && wantCuda) {
      skipped.push(`${found.source} (${found.torchDir}) is ${describe(info)}, and TRAJMATCH_LIBTORCH_VARIANT=${want} asks for CUDA`);
    } else if (!info.cuda && driver && want !== 'cpu') {
      skipped.push(
        `${found.source} (${found.torchDir}) is ${describe(info)} and ${gpuText}: a CUDA libtorch is preferred (TRAJMATCH_LIBTORCH_VARIANT=cpu would take this one)`,
      );
    } else {
      for (const line of skipped) log(`trajmatch: passed over ${line}`);
      if (found.source === 'the system libtorch' && isDebianLike() && isRoot()) completeSystemLibtorch(log);
      return chosen(found, info, skipped.length ? `the first usable one found (${skipped.length} passed over)` : 'found installed');
    }
  }
  for (const line of skipped) log(`trajmatch: passed over ${line}`);

  // PyTorch's prebuilt libtorch: from the cache, or downloaded into it.
  const choice = choosePrebuilt(driver, env);
  const checked = (dir) => {
    const torchDir = torchDirUnderPrefix(dir);
    if (!torchDir) throw new LibtorchNotFound(`${dir} holds no share/cmake/Torch/TorchConfig.cmake: not a libtorch`);
    const info = inspectLibtorch(torchDir);
    const problem = usabilityProblem(info);
    if (problem) throw new LibtorchNotFound(`the prebuilt libtorch in ${dir}: ${problem}`);
    if (choice.variant !== 'cpu' && !info.cuda)
      throw new LibtorchNotFound(`the prebuilt libtorch in ${dir} was to be ${choice.variant} but has no libtorch_cuda.so`);
    return { source: `the prebuilt libtorch ${choice.version}+${choice.variant}`, torchDir, prefix: dir, info };
  };
  const why = `${prebuiltOnly ? 'TRAJMATCH_LIBTORCH_PREBUILT is set' : 'no usable libtorch installed'}; ${choice.reason}`;
  const dir = prebuiltDir(choice.version, choice.variant, env);
  if (fs.existsSync(dir)) {
    const c = checked(dir);
    return chosen(c, c.info, `${why}; cached in ${dir}`);
  }
  // A Debian/Ubuntu machine without a GPU, as root: Debian's own CPU libtorch is one apt-get away,
  // and PyTorch's site may be out of reach (a firewalled CI runner). With a GPU the CUDA download
  // is preferred; TRAJMATCH_LIBTORCH_PREBUILT=1 skips this. If apt-get fails, the download is tried.
  if (!prebuiltOnly && !driver && !wantCuda && isDebianLike() && isRoot() && onPath('apt-get', env)) {
    try {
      aptInstall(['libtorch-dev', 'libopenblas0-pthread', 'libgloo-dev'], log);
    } catch (e) {
      log(`trajmatch: apt-get could not install Debian's libtorch-dev (${e.message.split('\n')[0]}); trying the prebuilt download`);
    }
    const system = fromSystem();
    const info = system && inspectLibtorch(system.torchDir);
    if (info && !usabilityProblem(info)) return chosen(system, info, "no libtorch installed and no GPU: Debian's libtorch-dev installed with apt-get");
  }
  try {
    await fetchPrebuilt(choice, { env, log, check: checked });
  } catch (e) {
    const passed = skipped.length ? `Passed over:\n${skipped.map((l) => `  ${l}`).join('\n')}\n` : '';
    throw new LibtorchNotFound(`trajmatch: no usable libtorch. ${e.message}\n${passed}${HOW_TO_PROVIDE}`, { cause: e });
  }
  const c = checked(dir);
  return chosen(c, c.info, `${why}; downloaded into ${dir}`);
}

/** Whether a command is in one of the folders of env.PATH. */
function onPath(cmd, env) {
  return (env.PATH || '').split(':').some((dir) => dir && fs.existsSync(`${dir}/${cmd}`));
}

/** Debian's libtorch-dev, completed: OpenBLAS instead of the reference BLAS, gloo's headers for c10d. */
function completeSystemLibtorch(log) {
  const missing = [...(hasReferenceBlasOnly() ? ['libopenblas0-pthread'] : []), ...(lacksGlooHeaders() ? ['libgloo-dev'] : [])];
  if (missing.length > 0) aptInstall(missing, log);
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
  const missing = [
    ['cmake', 'cmake'],
    ['c++', 'g++'],
  ].filter(([cmd]) => !hasCommand(cmd));
  if (missing.length === 0) return;
  if (isDebianLike() && isRoot()) {
    aptInstall(
      missing.map(([, pkg]) => pkg),
      log,
    );
    return;
  }
  throw new Error(
    `trajmatch: the native build needs ${missing.map(([cmd]) => cmd).join(' and ')} (CMake 3.18+ and a C++17 compiler); install them and run npm install again`,
  );
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
    log(
      `trajmatch: Fashion-MNIST is not in ${FASHION_MNIST}: the default job downloads it into ${cacheDir()}/datasets when it first runs (or install Debian's dataset-fashion-mnist, or pass --data-path)`,
    );
    return false;
  }
  aptInstall(['dataset-fashion-mnist'], log);
  return present();
}

module.exports = { ensureLibtorch, ensureBuildTools, ensureDefaultDataset, aptInstall, isDebianLike, isRoot };

if (require.main === module) {
  (async () => {
    ensureBuildTools();
    const t = await ensureLibtorch();
    console.log(`trajmatch: ${t.description} from ${t.source} (${t.torchDir}): ${t.why}`);
    if (ensureDefaultDataset()) console.log('trajmatch: Fashion-MNIST in /usr/share/datasets/fashion-mnist');
  })().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
