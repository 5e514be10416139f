'use strict';
// PyTorch's official prebuilt libtorch (the cxx11-ABI "shared-with-deps" zips of
// download.pytorch.org): which build fits this machine, where it is, its pinned sha256, and its
// download into the per-user cache. Used by scripts/libtorch.js when no usable libtorch is installed.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { cacheDir, fetchVerified, unzipAtomic, DownloadError } = require('./download');

const OFFICIAL = 'https://download.pytorch.org/libtorch';

/**
 * The builds we know, with the sha256 of each zip where a published one was found (null: none was,
 * and the user must give it in TRAJMATCH_LIBTORCH_SHA256; the check is never skipped). PyTorch
 * publishes no digests for these zips; the ones below are those that other projects pinned after
 * downloading them:
 *   2.6.0+cu124: a build runbook that pins the zip it validated (DavranDev/cli_hexmeshing)
 *   2.5.1+cpu:   four unrelated projects agree (WasmEdge's install-pytorch.sh, and three build
 *                scripts with FetchContent URL_HASH or sha256sum checks)
 * Keep the table in binding.gyp.md in step with this one.
 */
const PREBUILT = {
  '2.6.0': { cpu: null, cu118: null, cu124: 'be21b2ad0d7848fed3f909711889a549864b6cf06d564c58454eeb32a76eaaae', cu126: null },
  '2.5.1': { cpu: '618ca54eef82a1dca46ff1993d5807d9c0deb0bae147da4974166a147cb562fa', cu118: null, cu121: null, cu124: null },
};

/**
 * The oldest Linux driver each CUDA build runs on: NVIDIA's CUDA Toolkit release notes, table
 * "CUDA Toolkit and Corresponding Driver Versions" (the GA release of each minor version).
 */
const MIN_DRIVER = {
  cu118: '520.61.05',
  cu121: '530.30.02',
  cu124: '550.54.14',
  cu126: '560.28.03',
  cu128: '570.26',
  cu129: '575.51.03',
  cu130: '580.65.06',
};
const CUDA_VARIANTS = Object.keys(MIN_DRIVER);

function compareVersions(a, b) {
  const pa = String(a)
    .split(/[.+]/)
    .map((x) => Number.parseInt(x, 10) || 0);
  const pb = String(b)
    .split(/[.+]/)
    .map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The NVIDIA driver version of this machine, or null without one. TRAJMATCH_NVIDIA_DRIVER overrides
 * the detection ('none' for no GPU), e.g. to fetch the build for another machine.
 */
function detectDriver(env = process.env) {
  if (env.TRAJMATCH_NVIDIA_DRIVER !== undefined && env.TRAJMATCH_NVIDIA_DRIVER !== '') {
    const v = env.TRAJMATCH_NVIDIA_DRIVER.trim();
    if (v === 'none') return null;
    if (!/^\d+(\.\d+)*$/.test(v)) throw new Error(`TRAJMATCH_NVIDIA_DRIVER=${v} is not a driver version: expected e.g. 550.54.14, or 'none'`);
    return v;
  }
  try {
    const text = fs.readFileSync('/proc/driver/nvidia/version', 'utf8');
    const m = text.match(/Kernel Module\s+(?:for\s+\S+\s+)?(\d+\.\d+(?:\.\d+)?)/) || text.match(/\s(\d{3}\.\d+(?:\.\d+)?)\s/);
    if (m) return m[1];
  } catch {
    /* no kernel module: try nvidia-smi (e.g. in a container) */
  }
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=driver_version', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 20000,
    });
    const v = out.split('\n')[0].trim();
    return /^\d+(\.\d+)*$/.test(v) ? v : null;
  } catch {
    return null;
  }
}

/** The CUDA variants of `variants` that the driver runs, newest first. */
function runnableCudaVariants(driver, variants) {
  if (!driver) return [];
  return variants.filter((v) => MIN_DRIVER[v] && compareVersions(driver, MIN_DRIVER[v]) >= 0).sort((a, b) => compareVersions(b.slice(2), a.slice(2)));
}

function archiveName(version, variant) {
  return `libtorch-cxx11-abi-shared-with-deps-${version}+${variant}.zip`;
}

/**
 * Which prebuilt libtorch to take. `driver`: this machine's NVIDIA driver version or null.
 * TRAJMATCH_LIBTORCH_VERSION picks the version (default: the newest with a pinned sha256 for the
 * variant); TRAJMATCH_LIBTORCH_VARIANT picks 'cpu', a CUDA build ('cu124'), 'cuda' (the newest CUDA
 * build the driver runs) or 'auto' (default: 'cuda' with a driver, else 'cpu').
 * Returns { version, variant, url, sha256, sha256Source, reason }.
 */
/** The TRAJMATCH_LIBTORCH_* choices, checked: { wantVersion, want, given }. Throws naming a bad one. */
function readPrebuiltEnv(env = process.env) {
  const wantVersion = env.TRAJMATCH_LIBTORCH_VERSION || undefined;
  const want = (env.TRAJMATCH_LIBTORCH_VARIANT || 'auto').toLowerCase();
  if (!['auto', 'cpu', 'cuda', ...CUDA_VARIANTS].includes(want)) {
    throw new Error(`TRAJMATCH_LIBTORCH_VARIANT=${want} is not a libtorch variant: expected auto, cpu, cuda or one of ${CUDA_VARIANTS.join(', ')}`);
  }
  if (wantVersion !== undefined && !/^\d+\.\d+\.\d+$/.test(wantVersion)) {
    throw new Error(`TRAJMATCH_LIBTORCH_VERSION=${wantVersion} is not a libtorch version: expected e.g. 2.6.0`);
  }
  const given = env.TRAJMATCH_LIBTORCH_SHA256 ? env.TRAJMATCH_LIBTORCH_SHA256.trim().toLowerCase() : null;
  if (given && !/^[0-9a-f]{64}$/.test(given))
    throw new Error(`TRAJMATCH_LIBTORCH_SHA256=${env.TRAJMATCH_LIBTORCH_SHA256} is not a sha256: expected 64 hexadecimal digits`);
  return { wantVersion, want, given };
}

function choosePrebuilt(driver, env = process.env) {
  const { wantVersion, want, given } = readPrebuiltEnv(env);
  const versions = wantVersion ? [wantVersion] : Object.keys(PREBUILT).sort((a, b) => compareVersions(b, a));
  const variantsOf = (v) => (PREBUILT[v] ? Object.keys(PREBUILT[v]) : ['cpu', ...CUDA_VARIANTS]);
  const pinned = (v, variant) => PREBUILT[v]?.[variant] ?? null;
  const driverText = driver ? `NVIDIA driver ${driver}` : 'no NVIDIA driver';

  // The variants to consider for one version, best first, and why.
  const candidates = (v) => {
    if (want === 'cpu') return { list: ['cpu'], why: 'TRAJMATCH_LIBTORCH_VARIANT=cpu' };
    if (CUDA_VARIANTS.includes(want)) {
      if (!driver) return { list: [want], why: `TRAJMATCH_LIBTORCH_VARIANT=${want} (${driverText} here: it will not run on this machine)` };
      if (compareVersions(driver, MIN_DRIVER[want]) < 0) {
        throw new Error(
          `TRAJMATCH_LIBTORCH_VARIANT=${want} needs NVIDIA driver ${MIN_DRIVER[want]} or newer, this machine has ${driver}: update the driver, or choose an older CUDA build (${runnableCudaVariants(driver, CUDA_VARIANTS).join(', ') || 'none fits'})`,
        );
      }
      return { list: [want], why: `TRAJMATCH_LIBTORCH_VARIANT=${want}` };
    }
    const cuda = runnableCudaVariants(driver, variantsOf(v));
    if (want === 'cuda') {
      if (!driver)
        throw new Error('TRAJMATCH_LIBTORCH_VARIANT=cuda, but this machine has no NVIDIA driver (set TRAJMATCH_NVIDIA_DRIVER to fetch for another machine)');
      return { list: cuda, why: `${driverText} runs CUDA builds up to ${cuda[0] || 'none'}` };
    }
    if (!driver) return { list: ['cpu'], why: `${driverText}: the CPU build` };
    if (cuda.length === 0)
      return {
        list: ['cpu'],
        why: `${driverText} is too old for the CUDA builds of libtorch ${v} (${variantsOf(v)
          .filter((x) => x !== 'cpu')
          .map((x) => `${x} needs ${MIN_DRIVER[x]}`)
          .join(', ')}): the CPU build`,
      };
    return { list: cuda, why: `${driverText} runs CUDA builds up to ${cuda[0]}` };
  };

  let choice = null;
  for (const v of versions) {
    const { list, why } = candidates(v);
    // The newest variant with a pinned digest; when none has one, the best variant of the newest version.
    const withHash = list.find((variant) => pinned(v, variant));
    if (withHash) {
      const skipped = list.slice(0, list.indexOf(withHash));
      choice = { version: v, variant: withHash, why: skipped.length ? `${why}; ${skipped.join(', ')} of ${v} has no pinned sha256, ${withHash} has` : why };
      break;
    }
    if (!choice && list.length) choice = { version: v, variant: list[0], why };
  }
  if (!choice) throw new Error(`no libtorch build of ${versions.join(', ')} fits this machine (${driverText}, TRAJMATCH_LIBTORCH_VARIANT=${want})`);

  const { version, variant } = choice;
  const file = archiveName(version, variant);
  const mirror = (env.TRAJMATCH_LIBTORCH_MIRROR || OFFICIAL).replace(/\/+$/, '');
  const url = env.TRAJMATCH_LIBTORCH_URL || `${mirror}/${variant}/${encodeURIComponent(file)}`;
  const known = pinned(version, variant);
  if (known && given && given !== known) {
    throw new Error(`TRAJMATCH_LIBTORCH_SHA256=${given} differs from the sha256 pinned for ${file} (${known}): unset it, or check where it came from`);
  }
  return {
    version,
    variant,
    file,
    url,
    sha256: known || given,
    sha256Source: known ? 'pinned' : given ? 'TRAJMATCH_LIBTORCH_SHA256' : null,
    reason: choice.why,
  };
}

/** The cache folder of one prebuilt libtorch. */
function prebuiltDir(version, variant, env = process.env) {
  return path.join(cacheDir(env), `libtorch-${version}-${variant}`);
}

/**
 * Downloads and unpacks the chosen prebuilt libtorch into the cache (nothing when it is there).
 * `check(dir)` inspects the unpacked folder before it is put in place (throw to refuse it).
 * Returns the folder.
 */
async function fetchPrebuilt(choice, { env = process.env, check, log = console.log } = {}) {
  const dir = prebuiltDir(choice.version, choice.variant, env);
  if (fs.existsSync(dir)) return dir;
  if (!choice.sha256) {
    throw new DownloadError(
      `no sha256 is pinned for ${choice.file}: PyTorch publishes none, and none from another source was found.\n` +
        `Download it once from a machine you trust, compute its digest (sha256sum ${choice.file}) and run again with TRAJMATCH_LIBTORCH_SHA256=<digest>,\n` +
        'or choose a build that has one (see the table in binding.gyp.md: TRAJMATCH_LIBTORCH_VERSION / TRAJMATCH_LIBTORCH_VARIANT).',
      'ECHECKSUM',
    );
  }
  const zip = path.join(cacheDir(env), 'downloads', choice.file);
  log(`trajmatch: downloading libtorch ${choice.version}+${choice.variant} (${choice.url}), sha256 ${choice.sha256Source}`);
  await fetchVerified({ urls: [choice.url], dest: zip, sha256: choice.sha256, label: `libtorch ${choice.version}+${choice.variant}`, env });
  try {
    log(`trajmatch: unpacking ${choice.file} into ${dir}`);
    await unzipAtomic(zip, dir, { top: 'libtorch', check });
  } finally {
    fs.rmSync(zip, { force: true }); // the unpacked folder is the cache; the zip would double its size
  }
  return dir;
}

module.exports = {
  readPrebuiltEnv,
  PREBUILT,
  MIN_DRIVER,
  OFFICIAL,
  compareVersions,
  detectDriver,
  choosePrebuilt,
  prebuiltDir,
  fetchPrebuilt,
  archiveName,
  runnableCudaVariants,
};
