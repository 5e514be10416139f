#!/usr/bin/env node
'use strict';
// npm run build:native: builds native/ into build/Release/trajmatch.node with cmake-js against the
// libtorch that scripts/setup.js finds. Offline: Node-API headers come from node-api-headers.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ensureBuildTools, ensureLibtorch } = require('./setup');

const root = path.resolve(__dirname, '..');
const stampFile = path.join(root, 'build', 'libtorch.json');
const addonFile = path.join(root, 'build', 'Release', 'trajmatch.node');

function build({ quietIfUpToDate = false } = {}) {
  ensureBuildTools();
  const torch = ensureLibtorch();
  if (quietIfUpToDate && upToDate(torch)) return;
  console.log(`trajmatch: building the native addon against libtorch ${torch.version} from ${torch.source} (${torch.torchDir})`);
  // A build folder configured for another libtorch would keep the old one in its CMake cache.
  const stamp = readStamp();
  if (stamp && stamp.torchDir !== torch.torchDir) fs.rmSync(path.join(root, 'build'), { recursive: true, force: true });

  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const args = [cmakeJs, 'build', '--log-level', 'warn', '--directory', root,
    '--parallel', String(Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length)),
    `--CDTorch_DIR=${torch.torchDir}`, `--CDCMAKE_PREFIX_PATH=${torch.prefix}`];
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`trajmatch: the native build failed (cmake-js exit ${result.status ?? result.signal}); see the compiler output above`);
  }
  fs.writeFileSync(stampFile, JSON.stringify({ torchDir: torch.torchDir, version: torch.version, source: torch.source }, null, 2));
  console.log(`trajmatch: built ${path.relative(root, addonFile)}`);
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
  try {
    build({ quietIfUpToDate: process.argv.includes('--if-needed') });
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
