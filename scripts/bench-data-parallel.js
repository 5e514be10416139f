#!/usr/bin/env node
/**
 * Data-parallel distillation against one process: iterations per second of
 *   W = 1 in one process, W = 2 in one process, and W = 2 over 2 ranks (gloo on 127.0.0.1),
 * i.e. the trajectory batch held constant (W = 2 both ways) and growing with the ranks (W = N).
 * Trains a few small experts on Fashion-MNIST first (kept in --out-dir for later runs).
 *
 *   node scripts/bench-data-parallel.js [--iterations 8] [--syn-steps 10] [--ipc 1] [--net-width 32] [--data-path DIR] [--out-dir DIR]
 *
 * Needs the build (npm run build). Prints a table and, last, one JSON line.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repo = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const iterations = Number(arg('iterations', 8));
const synSteps = Number(arg('syn-steps', 10));
const ipc = Number(arg('ipc', 1));
// width 32: every run evaluates at its start and end on the 10,000 test images, minutes at width 128 on 2 cores
const netWidth = Number(arg('net-width', 32));
const dataPath = arg('data-path', '/usr/share/datasets/fashion-mnist');
const outDir = path.resolve(arg('out-dir', path.join('bench', 'data-parallel')));
const cli = path.join(repo, 'dist', 'cli', 'main.js');
if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);

const common = [
  '--dataset',
  'fashion-mnist',
  '--data-path',
  dataPath,
  '--device',
  'cpu',
  '--net-width',
  String(netWidth),
  '--waypoints',
  '2',
  '--buffer-path',
  path.join(outDir, 'buffers'),
];

function run(label, argv, env = {}) {
  const r = spawnSync(process.execPath, [cli, ...argv], {
    encoding: 'utf8',
    env: { ...process.env, RANK: '', WORLD_SIZE: '', MASTER_ADDR: '', MASTER_PORT: '', ...env },
  });
  if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`); // with --json, the error event is on stdout
  return r.stdout;
}

// 2 experts of 2 epochs on 500 images: the speed of an iteration does not depend on the experts' quality
run('buffer', ['buffer', ...common, '--num-experts', '2', '--train-epochs', '2', '--train-limit', '500', '--form', 'mct', '--json', '--quiet']);

const configs = [
  { label: 'W=1, 1 process', W: 1, nproc: 1 },
  { label: 'W=2, 1 process', W: 2, nproc: 1 },
  { label: 'W=2, 2 ranks (gloo)', W: 2, nproc: 2 },
];
const results = [];
for (const c of configs) {
  const runDir = path.join(outDir, `run-w${c.W}-n${c.nproc}`);
  fs.rmSync(runDir, { recursive: true, force: true });
  const began = Date.now();
  run(c.label, [
    'distill',
    ...common,
    '--method',
    'mct',
    '--max-experts',
    '2',
    '--max-start-epoch',
    '1',
    '--expert-epochs',
    '1',
    '--lr-lr',
    '0',
    '--lr-img',
    '100',
    '--ipc',
    String(ipc),
    '--syn-steps',
    String(synSteps),
    '--iterations',
    String(iterations),
    '--eval-it',
    '100000',
    '--num-eval',
    '1',
    '--eval-epochs',
    '1',
    '--trajectory-batch',
    String(c.W),
    '--nproc',
    String(c.nproc),
    '--run-dir',
    runDir,
    '--json',
    '--quiet',
  ]);
  const wall = (Date.now() - began) / 1000;
  const seconds = fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((l) => l.type === 'iteration')
    .map((l) => l.seconds)
    .slice(1); // the first iteration warms up
  const mean = seconds.reduce((a, b) => a + b, 0) / seconds.length;
  results.push({ ...c, iterationsPerSecond: 1 / mean, stretchesPerSecond: c.W / mean, secondsPerIteration: mean, wallSeconds: wall });
}

const nSyn = ipc * 10;
const bytes = (nSyn * 28 * 28 + 3) * 8; // float64 dL/dX, dL/dalpha, loss, stop flag
const base = results[0];
console.log(
  `data-parallel distillation, Fashion-MNIST ConvNet-3 (width ${netWidth}), MCT/tesla, ipc ${ipc}, syn_steps ${synSteps}, ${iterations} iterations (first dropped)`,
);
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0].model}), load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; all-reduce ${bytes} bytes per iteration`,
);
for (const r of results) {
  console.log(
    `${r.label.padEnd(22)} ${r.iterationsPerSecond.toFixed(3)} it/s  ${r.stretchesPerSecond.toFixed(3)} stretches/s  (${(r.iterationsPerSecond / base.iterationsPerSecond).toFixed(2)}x it/s of W=1; wall ${r.wallSeconds.toFixed(1)} s)`,
  );
}
console.log(JSON.stringify({ netWidth, ipc, synSteps, iterations, cores: os.cpus().length, loadavg: os.loadavg(), allReduceBytes: bytes, results }));
