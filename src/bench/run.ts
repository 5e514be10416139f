/**
 * npm run bench: MTT and MCT side by side on the same experts and settings. Speed and memory per
 * gradient method, trajectory storage, accuracy against iterations (convergence) and its spread
 * over seeds (stability); with --reference, the PyTorch eager reference in the same call. Writes
 * bench.json (every figure, the machine, what is missing) and report.html after every section, so
 * an interrupted bench keeps what it measured.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { parseOptions } from '../config/validate';
import { throwIfInterrupted, TrajmatchInputError, TrajmatchInterrupted } from '../errors';
import { checkOutputDir } from '../io/output-path';
import { DEFAULT_DEVICE, resolveDevice } from '../backend/device';
import { DATASET_NAMES, loadDataset } from '../data/dataset';
import { convNetForDataset } from '../model/convnet';
import { DEFAULT_DSA_STRATEGY } from '../augment/dsa';
import { writeAtomic } from '../io/atomic';
import { PRESETS } from '../distill/presets';
import { distillDataset } from '../distill/run';
import { readMetrics } from '../distill/run-folder';
import { EvalArch, evaluateSetOnArch, EvalOptions, meanStd } from '../eval/protocol';
import { readSyntheticSet, syntheticSetTensors } from '../synthetic/file';
import { bufferDir, bufferOptionsSchema, DEFAULT_BUFFER_PATH, trainExperts } from '../trajectory/buffer';
import { storageReport, StorageReport } from '../trajectory/convert';
import { listExpertFiles } from '../trajectory/files';
import { machineInfo, MachineInfo } from './machine';
import { REFERENCE_SCRIPT, ReferenceResult, runReference } from './reference';
import { renderReport } from './report';
import { TimingCell, timeCellInChild, TimingResult } from './timing';
import { GradMethod } from '../distill/match';
import { DistillOptions, distillOptionsSchema } from '../distill/options';
import { NetworkOptions } from '../model/convnet';
import { BufferOptions } from '../trajectory/buffer';

/** The bench's sections, in the order they run. */
export const BENCH_SECTIONS = ['timing', 'storage', 'convergence', 'cross-architecture', 'reference'] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];
/** Other names of sections, by what they measure: speed and memory are timed together; accuracy and stability come from the convergence runs. */
export const SECTION_ALIASES = { speed: 'timing', memory: 'timing', accuracy: 'convergence', stability: 'convergence' } as const;

export const benchOptionsSchema = z.strictObject({
  /** quick: minutes on a CPU; full: the GPU-sized comparison. */
  preset: z.enum(['quick', 'full']).default('quick'),
  outDir: z.string().min(1).default('bench'),
  device: z.string().default(DEFAULT_DEVICE),
  /** Seeds of the convergence runs of each method (their spread is the stability). */
  seeds: z.array(z.number().int().nonnegative()).min(1).optional(),
  gradMethods: z
    .array(z.enum(['unroll', 'tesla', 'adjoint']))
    .min(1)
    .default(['unroll', 'tesla', 'adjoint']),
  /**
   * The PyTorch eager reference (the published loops, timed on the timing cells beside ours): true
   * runs the bundled scripts/reference/eager_iteration.py, a path another script that reads the
   * same JSON job. Given, its section runs even where `sections` leaves it out; without it, the
   * section runs the bundled script when `sections` includes it (the default).
   */
  reference: z.union([z.literal(true), z.string().min(1)]).optional(),
  bufferPath: z.string().min(1).default(DEFAULT_BUFFER_PATH),
  /** The dataset of the convergence runs (default Fashion-MNIST) and where its files are. */
  dataset: z.enum(DATASET_NAMES).default('fashion-mnist'),
  dataPath: z.string().optional(),
  /**
   * The sections to run (default all): timing is the speed and memory of each gradient method
   * (also called speed, memory), convergence the accuracy runs and their stability (accuracy, stability).
   */
  sections: z
    .array(z.enum([...BENCH_SECTIONS, ...(Object.keys(SECTION_ALIASES) as (keyof typeof SECTION_ALIASES)[])]))
    .min(1)
    .default([...BENCH_SECTIONS]),
  // Size knobs: a smaller bench than the preset's protocol is marked partial in the report.
  /** Distillation iterations of each convergence run (default: the preset's). */
  iterations: z.number().int().positive().optional(),
  /** Timed iterations of each speed and memory cell (default: the preset's). */
  timingIterations: z.number().int().positive().optional(),
  /** ConvNet width of the experts, the convergence runs and the timing network (default: the preset's). */
  netWidth: z.number().int().positive().optional(),
  /** The experts train on a seeded subset of this many training images (default: the preset's). */
  trainLimit: z.number().int().positive().optional(),
});

export type BenchOptions = z.input<typeof benchOptionsSchema>;

export interface BenchPreset {
  network: NetworkOptions;
  buffer: BufferOptions;
  distill: DistillOptions;
  seeds: number[];
  /** The timing network (input shape and classes) and cells. */
  timingNetwork: { channels: number; height: number; width: number; numClasses: number; netWidth?: number };
  timing: TimingCell[];
  /** Other architectures the best set of each method's first run is evaluated on, and how. */
  crossArch: EvalArch[];
  crossArchEval: EvalOptions;
}

const cells = (ipc: number, synSteps: number, batchSyn: number | undefined, iterations: number, warmup: number): TimingCell[] =>
  (['unroll', 'tesla', 'adjoint'] as GradMethod[]).map((gradMethod) => ({ gradMethod, ipc, synSteps, batchSyn, iterations, warmup }));

export const BENCH_PRESETS: Record<'quick' | 'full', BenchPreset> = {
  quick: {
    network: PRESETS['fashion-mnist-cpu'].network!,
    buffer: PRESETS['fashion-mnist-cpu'].buffer,
    distill: {
      ipc: 1,
      iterations: 60,
      evalIt: 20,
      numEval: 1,
      evalEpochs: 100,
      synSteps: 10,
      expertEpochs: 2,
      maxStartEpoch: 4,
      lrImg: 100,
      lrLr: 1e-5,
      lrTeacher: 0.01,
    },
    seeds: [0, 1, 2],
    timingNetwork: { channels: 1, height: 28, width: 28, numClasses: 10, netWidth: 32 },
    timing: cells(1, 10, undefined, 5, 1),
    crossArch: ['alexnet'],
    crossArchEval: { numEval: 1, epochs: 100 },
  },
  full: {
    network: {},
    buffer: PRESETS['fashion-mnist-ipc10'].buffer,
    distill: { ...PRESETS['fashion-mnist-ipc10'].distill, iterations: 1000, evalIt: 100 },
    seeds: [0, 1, 2],
    // the published CIFAR-10 ConvNet and settings
    timingNetwork: { channels: 3, height: 32, width: 32, numClasses: 10 },
    timing: [...cells(1, 50, 10, 20, 3), ...cells(10, 30, 100, 20, 3)],
    crossArch: ['alexnet', 'vgg11', 'resnet18'],
    crossArchEval: { numEval: 5, epochs: 1000 },
  },
};

export interface ConvergenceRun {
  method: 'mtt' | 'mct';
  seed: number;
  evals: { iteration: number; mean: number; std: number }[];
  losses: { iteration: number; loss: number }[];
  grid: string;
  seconds: number;
}

export interface BenchReport {
  date: string;
  preset: 'quick' | 'full';
  machine: MachineInfo;
  settings: {
    network: NetworkOptions;
    buffer: BufferOptions;
    distill: DistillOptions;
    seeds: number[];
    timing: TimingCell[];
    timingNetwork: BenchPreset['timingNetwork'];
  };
  storage: (StorageReport & { waypoints: number; bufferDir: string }) | null;
  timing: TimingResult[];
  convergence: ConvergenceRun[];
  stability: Record<'mtt' | 'mct', { finalMean: number; finalStd: number; bestMean: number; bestStd: number; seeds: number }> | null;
  /** Test accuracy of each method's best set (first seed) on other architectures. */
  crossArch: { method: 'mtt' | 'mct'; arch: EvalArch; mean: number; std: number; accuracies: number[] }[];
  reference: ReferenceResult | null;
  /** What was not measured (an interrupted bench, a missing GPU or reference), in words. */
  missing: string[];
  /**
   * Each section's state: complete (the preset's whole protocol), partial (interrupted, or fewer
   * seeds, iterations, methods or images than the protocol, or another width: `notes` say which),
   * missing (not measured, or interrupted before any figure) or not asked.
   */
  sections: Record<BenchSection, { status: 'complete' | 'partial' | 'missing' | 'not asked'; notes: string[] }>;
}

/** The preset sized by the options' knobs. */
function sizedPreset(p: BenchPreset, o: z.output<typeof benchOptionsSchema>): BenchPreset {
  const network = o.netWidth === undefined ? p.network : { ...p.network, netWidth: o.netWidth };
  return {
    ...p,
    network,
    buffer: o.trainLimit === undefined ? p.buffer : { ...p.buffer, trainLimit: o.trainLimit },
    distill: o.iterations === undefined ? p.distill : { ...p.distill, iterations: o.iterations },
    timingNetwork: o.netWidth === undefined ? p.timingNetwork : { ...p.timingNetwork, netWidth: o.netWidth },
    timing: o.timingIterations === undefined ? p.timing : p.timing.map((c) => ({ ...c, iterations: o.timingIterations! })),
  };
}

/** Where a run sized by the knobs measures less than the protocol, by section. */
function protocolGaps(protocol: BenchPreset, sized: BenchPreset, seeds: number[], gradMethods: readonly GradMethod[]): Record<BenchSection, string[]> {
  const width = (n: NetworkOptions | BenchPreset['timingNetwork']) => n.netWidth ?? 128;
  const widthGap =
    width(sized.network) !== width(protocol.network) ? [`network width ${width(sized.network)}, not the protocol's ${width(protocol.network)}`] : [];
  const timingWidth =
    width(sized.timingNetwork) !== width(protocol.timingNetwork)
      ? [`network width ${width(sized.timingNetwork)}, not the protocol's ${width(protocol.timingNetwork)}`]
      : [];
  const timed = sized.timing[0]?.iterations ?? 0;
  const protocolTimed = protocol.timing[0]?.iterations ?? 0;
  const methods = [...new Set(protocol.timing.map((c) => c.gradMethod))];
  const runs = [
    ...((sized.distill.iterations ?? 0) < (protocol.distill.iterations ?? 0)
      ? [`${sized.distill.iterations} iterations per run, not the protocol's ${protocol.distill.iterations}`]
      : []),
    ...((sized.buffer.trainLimit ?? Infinity) < (protocol.buffer.trainLimit ?? Infinity)
      ? [`experts trained on ${sized.buffer.trainLimit} images, not ${protocol.buffer.trainLimit ?? 'all'} as the protocol`]
      : []),
    ...widthGap,
  ];
  return {
    timing: [
      ...(timed < protocolTimed ? [`${timed} timed iterations per cell, not the protocol's ${protocolTimed}`] : []),
      ...(methods.some((m) => !gradMethods.includes(m)) ? [`gradient methods ${methods.filter((m) => gradMethods.includes(m)).join(', ')} only`] : []),
      ...timingWidth,
    ],
    storage: widthGap,
    convergence: [...(seeds.length < protocol.seeds.length ? [`${seeds.length} seed(s), not the protocol's ${protocol.seeds.length}`] : []), ...runs],
    'cross-architecture': runs,
    reference: [],
  };
}

export async function runBench(
  options: BenchOptions = {},
  hooks: { log?: (line: string) => void; signal?: AbortSignal } = {},
  /** Settings to use instead of the named preset's (tests use tiny ones). */
  custom?: BenchPreset,
): Promise<BenchReport> {
  const o = parseOptions(benchOptionsSchema, options, 'bench');
  const asked = [...o.sections, ...(o.reference !== undefined ? (['reference'] as const) : [])];
  const sections = [...new Set(asked.map((s) => (s in SECTION_ALIASES ? SECTION_ALIASES[s as keyof typeof SECTION_ALIASES] : (s as BenchSection))))];
  const protocol = custom ?? BENCH_PRESETS[o.preset];
  const preset = sizedPreset(protocol, o);
  const seeds = o.seeds ?? preset.seeds;
  const gaps = protocolGaps(protocol, preset, seeds, o.gradMethods);
  const device = resolveDevice(o.device, 'bench.device');
  const log = hooks.log ?? (() => {});
  checkOutputDir(o.outDir, 'bench.outDir');
  const interrupted = (cause: unknown) => new TrajmatchInterrupted('bench', null, o.outDir, { cause });
  throwIfInterrupted(hooks.signal, interrupted);
  fs.mkdirSync(o.outDir, { recursive: true });
  const report: BenchReport = {
    date: new Date().toISOString(),
    preset: o.preset,
    machine: machineInfo(device),
    settings: { network: preset.network, buffer: preset.buffer, distill: preset.distill, seeds, timing: preset.timing, timingNetwork: preset.timingNetwork },
    storage: null,
    timing: [],
    convergence: [],
    stability: null,
    crossArch: [],
    reference: null,
    missing: [...sections],
    sections: Object.fromEntries(
      BENCH_SECTIONS.map((s) => [s, { status: sections.includes(s) ? 'missing' : 'not asked', notes: [] }]),
    ) as unknown as BenchReport['sections'],
  };
  const want = (section: BenchSection) => sections.includes(section);
  // the section under way, and whether it has figures yet: an interrupted one with figures is partial
  let current: { section: BenchSection; measured: () => boolean; of: () => string } | undefined;
  const notAsked = BENCH_SECTIONS.filter((s) => !want(s));
  const save = async () => {
    await writeAtomic(path.join(o.outDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeAtomic(path.join(o.outDir, 'report.html'), await renderReport(report, o.outDir));
  };
  const done = (section: BenchSection, note?: string) => {
    report.missing = report.missing.filter((m) => m !== section);
    if (note) report.missing.push(note);
    const notes = [...gaps[section], ...(note ? [note] : [])];
    // a note says what this section could not measure (the reference's absence: all of it)
    const status = section === 'reference' && note ? 'missing' : notes.length > 0 ? 'partial' : 'complete';
    report.sections[section] = { status, notes };
    current = undefined;
  };
  try {
    if (want('cross-architecture') && !want('convergence')) {
      throw new TrajmatchInputError(`bench.sections: cross-architecture evaluates the sets of the convergence runs; add convergence`);
    }
    if (notAsked.length) report.missing.push(`not asked for (sections): ${notAsked.join(', ')}`);
    await save();
    // 1. Speed and memory per gradient method, each in its own process.
    const timingCells = want('timing') ? preset.timing.filter((c) => o.gradMethods.includes(c.gradMethod)) : [];
    if (want('timing'))
      current = { section: 'timing', measured: () => report.timing.length > 0, of: () => `${report.timing.length} of ${timingCells.length} cells` };
    for (const cell of timingCells) {
      throwIfInterrupted(hooks.signal, interrupted);
      log(`timing ${cell.gradMethod}, IPC ${cell.ipc}, ${cell.synSteps} steps`);
      report.timing.push(await timeCellInChild({ network: preset.timingNetwork, device, dsa: DEFAULT_DSA_STRATEGY, cell }));
      await save();
    }
    if (want('timing')) {
      done(
        'timing',
        device.startsWith('cuda') && !report.machine.deviceMemoryStats
          ? 'the CUDA allocator peak (peakDeviceBytes): this build of the engine cannot read the allocator statistics, so resident memory only'
          : undefined,
      );
    }

    // 2. Experts (both forms from the same training) and their storage.
    const dataset = want('storage') || want('convergence') ? await loadDataset({ dataset: o.dataset, dataPath: o.dataPath, device }) : null;
    if (dataset) {
      try {
        const spec = convNetForDataset(dataset, preset.network);
        const dir = bufferDir(o.bufferPath, dataset.name, spec, false);
        const { waypoints } = parseOptions(distillOptionsSchema, preset.distill, 'bench preset distill');
        const wanted = parseOptions(bufferOptionsSchema, preset.buffer, 'bench preset buffer').numExperts;
        // trainExperts skips finished experts, and refuses ones trained with other settings (a
        // train limit of another bench), so it runs even when the folder looks complete
        if (listExpertFiles(dir, 'mtt').length < wanted || listExpertFiles(dir, 'mct', waypoints).length < wanted) log(`training experts into ${dir}`);
        await trainExperts(dataset, { ...preset.buffer, bufferPath: o.bufferPath, form: 'both', waypoints, network: preset.network }, { signal: hooks.signal });
        if (want('storage')) {
          report.storage = { ...storageReport(dir, waypoints), waypoints, bufferDir: dir };
          done('storage');
          await save();
        }

        // 3. Convergence and stability: the same settings and experts, MTT (unroll) and MCT (tesla), several seeds.
        if (want('convergence')) {
          current = {
            section: 'convergence',
            measured: () => report.convergence.length > 0,
            of: () => `${report.convergence.length} of ${2 * seeds.length} runs`,
          };
        }
        for (const method of want('convergence') ? (['mtt', 'mct'] as const) : []) {
          for (const seed of seeds) {
            throwIfInterrupted(hooks.signal, interrupted);
            log(`distilling with ${method.toUpperCase()}, seed ${seed}`);
            const runDir = path.join(o.outDir, 'runs', `${method}_seed${seed}`);
            fs.rmSync(runDir, { recursive: true, force: true });
            const began = Date.now();
            const r = await distillDataset(
              dataset,
              { ...preset.distill, method, seed, runDir, bufferPath: o.bufferPath, network: preset.network },
              { signal: hooks.signal },
            );
            const losses = readMetrics(r.files.metrics).flatMap((l) => (l.type === 'iteration' ? [{ iteration: l.iteration, loss: l.loss }] : []));
            report.convergence.push({
              method,
              seed,
              evals: r.evals,
              losses,
              grid: path.relative(o.outDir, r.files.grid),
              seconds: (Date.now() - began) / 1000,
            });
            await save();
          }
        }
        if (want('convergence'))
          report.stability = Object.fromEntries(
            (['mtt', 'mct'] as const).map((m) => {
              const runs = report.convergence.filter((c) => c.method === m);
              const finals = meanStd(runs.map((c) => c.evals[c.evals.length - 1].mean));
              const bests = meanStd(runs.map((c) => Math.max(...c.evals.map((e) => e.mean))));
              return [m, { finalMean: finals.mean, finalStd: finals.std, bestMean: bests.mean, bestStd: bests.std, seeds: runs.length }];
            }),
          ) as BenchReport['stability'];
        if (want('convergence')) done('convergence');
        await save();

        // 4. Cross-architecture: each method's best set of its first seed, on the other networks.
        if (want('cross-architecture')) {
          current = {
            section: 'cross-architecture',
            measured: () => report.crossArch.length > 0,
            of: () => `${report.crossArch.length} of ${2 * preset.crossArch.length} evaluations`,
          };
        }
        for (const method of want('cross-architecture') ? (['mtt', 'mct'] as const) : []) {
          const run = report.convergence.find((c) => c.method === method);
          if (!run) continue;
          const best = await readSyntheticSet(path.join(o.outDir, 'runs', `${method}_seed${run.seed}`, 'synthetic_best.safetensors'));
          const { images, labels } = syntheticSetTensors(best, device);
          try {
            for (const arch of preset.crossArch) {
              throwIfInterrupted(hooks.signal, interrupted);
              log(`evaluating the ${method.toUpperCase()} set on ${arch}`);
              const r = await evaluateSetOnArch(
                dataset,
                { images, labels, lr: best.lr },
                arch,
                spec,
                { ...preset.crossArchEval, seed: 0 },
                { signal: hooks.signal },
              );
              report.crossArch.push({ method, arch, mean: r.mean, std: r.std, accuracies: r.accuracies });
              await save();
            }
          } finally {
            images.dispose();
            labels.dispose();
          }
        }
        if (want('cross-architecture')) done('cross-architecture');
        await save();
      } finally {
        dataset.dispose();
      }
    }

    // 5. The PyTorch reference on the same cells, network and machine, in the same call.
    if (want('reference')) {
      log('the PyTorch eager reference (the published loops)');
      const cellsOf = preset.timing.filter((c) => o.gradMethods.includes(c.gradMethod));
      const script = typeof o.reference === 'string' ? o.reference : REFERENCE_SCRIPT;
      report.reference = runReference(script, { network: preset.timingNetwork, device, dsa: DEFAULT_DSA_STRATEGY }, cellsOf);
    }
    if (report.reference) done('reference', report.reference.available ? undefined : `the PyTorch reference: ${report.reference.reason}`);
    await save();
  } catch (e) {
    if (current?.measured()) {
      // an abort says why through the signal's reason
      const why = e instanceof TrajmatchInterrupted && e.cause instanceof Error ? e.cause.message : (e as Error).message;
      report.sections[current.section] = {
        status: 'partial',
        notes: [`interrupted after ${current.of()}: ${why}`, ...gaps[current.section]],
      };
    }
    await save(); // keep what was measured; `missing` says what was not
    throw e;
  }
  return report;
}
