#!/usr/bin/env node
'use strict';
// npm run build:native: builds native/ into build/Release/trajmatch.node with cmake-js against the
// libtorch that scripts/setup.js chooses. Offline: Node-API headers come from node-api-headers.
// It says what it does: the libtorch chosen and why, each compile step with the time elapsed, and a
// line a minute while a long step runs.
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const { ensureBuildTools, ensureLibtorch } = require('./setup');

const root = path.resolve(__dirname, '..');
const stampFile = path.join(root, 'build', 'libtorch.json');
const addonFile = path.join(root, 'build', 'Release', 'trajmatch.node');

function elapsed(began) {
  const s = Math.round((Date.now() - began) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Runs cmake-js, passing its output through with the elapsed time on each build step. */
function runCmakeJs(args, began) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let last = Date.now();
    let step = '';
    const pass = (stream, out) =>
      readline.createInterface({ input: stream }).on('line', (line) => {
        last = Date.now();
        // Ninja's "[3/21] Building CXX object ..." and Make's "[ 14%] Building CXX object ...".
        if (/^\[\s*\d+(%|\/\d+)\]/.test(line)) {
          step = line.replace(/^\[[^\]]*\]\s*/, '').replace(/^Building CXX object CMakeFiles\/[^/]+\.dir\//, 'compiling ');
          out.write(`trajmatch [${elapsed(began)}] ${line}\n`);
        } else {
          out.write(`${line}\n`);
        }
      });
    pass(child.stdout, process.stdout);
    pass(child.stderr, process.stderr);
    const heartbeat = setInterval(() => {
      if (Date.now() - last >= 60000) {
        process.stdout.write(`trajmatch [${elapsed(began)}] still building${step ? ` (last step: ${step})` : ''}\n`);
        last = Date.now();
      }
    }, 5000);
    child.on('error', (e) => {
      clearInterval(heartbeat);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new Error(`trajmatch: the native build failed (cmake-js exit ${code ?? signal}) after ${elapsed(began)}; see the compiler output above`));
    });
  });
}

async function build({ quietIfUpToDate = false } = {}) {
  ensureBuildTools();
  const torch = await ensureLibtorch();
  if (quietIfUpToDate && upToDate(torch)) return;
  const began = Date.now();
  console.log(`trajmatch: building the native addon against ${torch.description} from ${torch.source} (${torch.torchDir}): ${torch.why}`);
  // A build folder configured for another libtorch would keep the old one in its CMake cache.
  const stamp = readStamp();
  if (stamp && stamp.torchDir !== torch.torchDir) fs.rmSync(path.join(root, 'build'), { recursive: true, force: true });

  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const jobs = Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  const args = [
    cmakeJs,
    'build',
    '--log-level',
    'warn',
    '--directory',
    root,
    '--parallel',
    String(jobs),
    `--CDTorch_DIR=${torch.torchDir}`,
    `--CDCMAKE_PREFIX_PATH=${torch.prefix}`,
    // The sources compiled in two batches (binding.gyp.md); TRAJMATCH_UNITY_BUILD=0 compiles each on its own.
    `--CDTRAJMATCH_UNITY_BUILD=${/^(0|off|false|no)$/i.test(process.env.TRAJMATCH_UNITY_BUILD ?? '') ? 'OFF' : 'ON'}`,
  ];
  console.log(`trajmatch [${elapsed(began)}] configuring with CMake, then compiling with ${jobs} job(s) (a few minutes)`);
  await runCmakeJs(args, began);
  fs.writeFileSync(stampFile, JSON.stringify({ torchDir: torch.torchDir, version: torch.version, source: torch.source, cuda: torch.cuda }, null, 2));
  console.log(`trajmatch: built ${path.relative(root, addonFile)} in ${elapsed(began)} (min:s)`);
}

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  } catch {
    return null;
  }
}

/** True when the addon exists, was built against this libtorch, and is newer than every native source. */
function upToDate(torch) {
  const stamp = readStamp();
  if (!stamp || stamp.torchDir !== torch.torchDir || !fs.existsSync(addonFile)) return false;
  const built = fs.statSync(addonFile).mtimeMs;
  const sources = [path.join(root, 'CMakeLists.txt')];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else sources.push(p);
    }
  };
  walk(path.join(root, 'native'));
  return sources.every((f) => fs.statSync(f).mtimeMs <= built);
}

module.exports = { build };

if (require.main === module) {
  build({ quietIfUpToDate: process.argv.includes('--if-needed') }).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
