#!/usr/bin/env node
'use strict';
// A short check of the engine on a device (default 'cuda'), for the GPU machine:
//   bash .device/gpu-run.sh node scripts/gpu-smoke.js [device]
// Runs from dist/ (carry it), prints one JSON line per check and exits non-zero on the first failure.
// It also runs here on the CPU: node scripts/gpu-smoke.js cpu
const t = require('../dist');

const device = process.argv[2] || 'cuda';
const report = (check, result) => console.log(JSON.stringify({ check, device, ...result }));

async function main() {
  const info = t.backendInfo();
  report('backend', info);
  const dev = t.resolveDevice(device);

  // tensors: the round trip on the device
  const values = Float32Array.from({ length: 12 }, (_, i) => i / 3);
  const x = t.tensor(values, [3, 4], { device: dev });
  const back = Array.from(x.toArray());
  if (x.device !== dev || back.some((v, i) => v !== values[i])) throw new Error(`round trip on ${dev} changed the values`);
  x.dispose();
  report('tensor round trip', { ok: true });

  // one distillation iteration in float64: adjoint and tesla against unroll, and the time of each
  const spec = t.convNetSpec({ channels: 3, height: 32, width: 32, numClasses: 10, netWidth: 128 });
  const { numParams } = t.convNetLayout(spec);
  const start = t.convNetInit(spec, { seed: 1, dtype: 'float64', device: dev });
  const target = t.convNetInit(spec, { seed: 2, dtype: 'float64', device: dev });
  const images = t.tensor(
    Float64Array.from({ length: 10 * 3 * 32 * 32 }, (_, i) => Math.sin(i)),
    [10, 3, 32, 32],
    { device: dev },
  );
  const labels = t.tensor(
    BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i)),
    [10],
    { device: dev },
  );
  const grads = {};
  for (const method of ['unroll', 'adjoint', 'tesla']) {
    const began = process.hrtime.bigint();
    const r = await t.matchIteration(spec, { images, labels, start, target, lr: 0.01, synSteps: 10, dsa: t.DEFAULT_DSA_STRATEGY, seed: 3, method });
    const ms = Number(process.hrtime.bigint() - began) / 1e6;
    grads[method] = Array.from(r.gradImages.toArray());
    r.gradImages.dispose();
    report('matchIteration float64', { method, loss: r.loss, gradLr: r.gradLr, ms, numParams });
  }
  const rel = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / Math.max(...b.map(Math.abs));
  const adjointVsUnroll = rel(grads.adjoint, grads.unroll);
  report('adjoint vs unroll', { maxRelativeDifference: adjointVsUnroll });
  if (!(adjointVsUnroll < 1e-6)) throw new Error(`adjoint differs from unroll by ${adjointVsUnroll} on ${dev}`);
  [start, target, images, labels].forEach((h) => h.dispose());

  // one training epoch of the default ConvNet on 2,560 random images, float32, with DSA
  const params = t.convNetInit(spec, { seed: 4, device: dev });
  const trainImages = t.tensor(
    Float32Array.from({ length: 2560 * 3 * 32 * 32 }, (_, i) => Math.cos(i * 0.7)),
    [2560, 3, 32, 32],
    { device: dev },
  );
  const trainLabels = t.tensor(
    BigInt64Array.from({ length: 2560 }, (_, i) => BigInt(i % 10)),
    [2560],
    { device: dev },
  );
  const began = process.hrtime.bigint();
  const stats = await t.trainEpoch(spec, { params, images: trainImages, labels: trainLabels, lr: 0.01, batchSize: 256, dsa: t.DEFAULT_DSA_STRATEGY, seed: 5 });
  report('trainEpoch 2,560 images', { ...stats, seconds: Number(process.hrtime.bigint() - began) / 1e9 });
  [params, trainImages, trainLabels].forEach((h) => h.dispose());
  report('live tensor handles at the end', { count: t.liveTensorCount() });
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
