/**
 * Speed and memory of one distillation iteration per gradient method (unroll: MTT's; tesla: the
 * published MCT code's; adjoint: ours, exact). The iteration's cost does not depend on the values,
 * so, as the PyTorch reference does, a cell runs on random synthetic images and a random stretch
 * (theta_start from the initialisation, theta_target = theta_start + 0.01 noise), with the SGD step
 * of the pixels included. Each cell runs in a child process of its own, so that its peak resident
 * memory is its own (the OS reports a process's peak, and freed memory is not always returned).
 */
import { fork } from 'child_process';
import * as path from 'path';
import { resolveDevice } from '../backend/device';
import { tensor } from '../backend/tensor';
import { convNetInit, convNetLayout, convNetSpec, ConvNetOptions } from '../model/convnet';
import { GradMethod, matchIteration, sgdStep } from '../distill/match';
import { gaussianValues } from '../util/random';
import { devicePeakBytes } from '../engine';

export interface TimingCell {
  gradMethod: GradMethod;
  ipc: number;
  synSteps: number;
  /** All of the set when omitted. */
  batchSyn?: number;
  iterations: number;
  warmup: number;
}

export interface TimingJob {
  network: ConvNetOptions;
  device: string;
  dsa: string | null;
  cell: TimingCell;
}

export interface TimingResult extends TimingCell {
  /** Median milliseconds per iteration (the native iteration plus the pixels' SGD step). */
  msPerIteration: number;
  samplesMs: number[];
  /** Peak resident memory of the process, bytes. */
  peakRssBytes: number;
  /** Resident memory just before the timed iterations, bytes. */
  baselineRssBytes: number;
  /** The CUDA allocator's peak of allocated bytes during the timed iterations; null on the CPU or where the engine cannot read it. */
  peakDeviceBytes: number | null;
  /** Page faults (minor: a page mapped or zero-filled, no I/O) per timed iteration, all threads of the process. */
  minorFaultsPerIteration: number;
  /** CPU seconds of the timed iterations, all threads: in user space and in the kernel (system). */
  userSeconds: number;
  systemSeconds: number;
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs one cell in this process. */
export async function timeCell(job: TimingJob): Promise<TimingResult> {
  const device = resolveDevice(job.device);
  const spec = convNetSpec(job.network);
  const P = convNetLayout(spec).numParams;
  const n = job.cell.ipc * spec.numClasses;
  const shape = [n, spec.channels, spec.height, spec.width];
  const start = convNetInit(spec, { seed: 0, device });
  const startValues = start.toArray() as Float32Array;
  const noise = gaussianValues(P, 1, 0.01);
  const target = tensor(
    startValues.map((v, i) => v + noise[i]),
    [P],
    { device },
  );
  const images = tensor(
    gaussianValues(
      shape.reduce((a, b) => a * b, 1),
      2,
    ),
    shape,
    { device },
  );
  const buffer = tensor(new Float32Array(images.numel), shape, { device });
  const labels = tensor(
    Int32Array.from({ length: n }, (_, i) => Math.floor(i / job.cell.ipc)),
    [n],
    { dtype: 'int64', device },
  );
  const samples: number[] = [];
  const baselineRssBytes = process.memoryUsage().rss;
  devicePeakBytes(device, { reset: true });
  let before = process.resourceUsage();
  try {
    for (let i = 0; i < job.cell.warmup + job.cell.iterations; i++) {
      if (i === job.cell.warmup) before = process.resourceUsage();
      const t0 = process.hrtime.bigint();
      const r = await matchIteration(spec, {
        images,
        labels,
        start,
        target,
        lr: 0.01,
        synSteps: job.cell.synSteps,
        batchSyn: job.cell.batchSyn,
        dsa: job.dsa ?? undefined,
        seed: i,
        method: job.cell.gradMethod,
      });
      sgdStep(images, r.gradImages, buffer, 100, 0.5);
      r.gradImages.dispose();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6; // resolving read the loss back: the device is done
      if (i >= job.cell.warmup) samples.push(ms);
    }
  } finally {
    [start, target, images, buffer, labels].forEach((t) => t.dispose());
  }
  const after = process.resourceUsage(); // microseconds of CPU time, fault counts, peak RSS in KiB
  return {
    ...job.cell,
    msPerIteration: median(samples),
    samplesMs: samples,
    peakRssBytes: after.maxRSS * 1024,
    baselineRssBytes,
    peakDeviceBytes: devicePeakBytes(device),
    minorFaultsPerIteration: (after.minorPageFault - before.minorPageFault) / job.cell.iterations,
    userSeconds: (after.userCPUTime - before.userCPUTime) / 1e6,
    systemSeconds: (after.systemCPUTime - before.systemCPUTime) / 1e6,
  };
}

/** Runs one cell in a child process and resolves with its result. */
export function timeCellInChild(job: TimingJob): Promise<TimingResult> {
  const worker = path.join(__dirname, `timing-worker${path.extname(__filename)}`);
  const execArgv = __filename.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [];
  const what = `timing ${job.cell.gradMethod} IPC ${job.cell.ipc}`;
  return new Promise((resolve, reject) => {
    const child = fork(worker, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.on('message', (m: { result?: TimingResult; error?: string }) => {
      settled = true;
      if (m.result) resolve(m.result);
      else reject(new Error(`${what}: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
      if (!settled) reject(new Error(`${what}: the child process ended (${signal ?? code}) without a result`));
    });
    child.send(job);
  });
}
