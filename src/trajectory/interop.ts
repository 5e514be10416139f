/**
 * Published buffers in and out: importing MTT's replay_buffer_N.pt and MCT's waypoint/step files
 * into our expert files, and exporting ours in those formats (published.ts reads and writes them).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_DSA_STRATEGY } from '../augment/dsa';
import { publishedPreprocessing } from '../data/stats';
import { TrajmatchInputError } from '../errors';
import { checkOutputDir } from '../io/output-path';
import { convNetForDataset, NetworkOptions } from '../model/convnet';
import { bufferDir, DEFAULT_BUFFER_PATH } from './buffer';
import { ExpertInfo } from './expert-info';
import { asPlan, DEFAULT_WAYPOINTS, expertFileName, listExpertFiles, openTrajectory, Waypoints, writeMctExpert, writeMttExpert } from './files';
import { MctTrajectory } from './mct';
import { mctFileNames, readMctBuffer, readMttBuffer, writeMctBuffer, writeMttBuffer } from './published';
import { describeWaypointPlan, planEpochs, WaypointPlan } from './waypoints';

/** Image shape and classes of the datasets the published code distils (what a .pt file does not say). */
const SHAPES: Record<string, { channels: number; height: number; width: number; numClasses: number }> = {
  mnist: { channels: 1, height: 28, width: 28, numClasses: 10 },
  'fashion-mnist': { channels: 1, height: 28, width: 28, numClasses: 10 },
  cifar10: { channels: 3, height: 32, width: 32, numClasses: 10 },
  cifar100: { channels: 3, height: 32, width: 32, numClasses: 100 },
  'tiny-imagenet': { channels: 3, height: 64, width: 64, numClasses: 200 },
};

export interface ImportOptions {
  /** The dataset the experts were trained on (its published normalisation, or ZCA, is recorded). */
  dataset: string;
  zca?: boolean;
  zcaEps?: number;
  network?: NetworkOptions;
  /** Root of our buffers (default ./buffers); the experts go to its folder for the dataset and network. */
  bufferPath?: string;
  /** Index of the first imported expert (default 0); files are taken in the order of their N. */
  firstExpert?: number;
  /** The waypoint plan MCT files are labelled with (default: K from _ipK in their names, 2 without). */
  waypoints?: Waypoints;
}

export interface ImportResult {
  dir: string;
  written: string[];
  /** Files already there (and valid), left as they were. */
  kept: string[];
}

const WAYPOINT_FILE = /^waypoint_buffer(?:_ip(\d+))?_(\d+)\.pt$/;
const STEP_FILE = /^step_buffer(?:_ip(\d+))?_(\d+)\.pt$/;

function fileIndex(file: string): number {
  const m = /_(\d+)\.pt$/.exec(path.basename(file));
  return m ? Number(m[1]) : 0;
}

/** Imports published .pt buffers (MTT replay buffers and/or MCT waypoint + step pairs) as our expert files. */
export async function importPublishedBuffer(files: string[], o: ImportOptions, onFile?: (file: string) => void): Promise<ImportResult> {
  const shape = SHAPES[o.dataset];
  if (!shape)
    throw new TrajmatchInputError(
      `importing .pt buffers needs a dataset of known image shape: one of ${Object.keys(SHAPES).join(', ')}; received '${o.dataset}'`,
    );
  const spec = convNetForDataset(shape, o.network ?? {});
  const zca = o.zca ?? false;
  const dir = bufferDir(o.bufferPath ?? DEFAULT_BUFFER_PATH, o.dataset, spec, zca);
  checkOutputDir(dir, 'bufferPath');
  const result: ImportResult = { dir, written: [], kept: [] };

  const mtt: string[] = [];
  const mct = new Map<string, { waypoints: string; steps: string; k: number }>();
  for (const file of files) {
    const base = path.basename(file);
    const w = WAYPOINT_FILE.exec(base);
    const s = STEP_FILE.exec(base);
    if (w || s) {
      const k = Number((w ?? s)![1] ?? 2);
      const names = mctFileNames(k, Number((w ?? s)![2]));
      const pair = { waypoints: path.join(path.dirname(file), names.waypoints), steps: path.join(path.dirname(file), names.steps), k };
      for (const f of [pair.waypoints, pair.steps])
        if (!fs.existsSync(f)) throw new TrajmatchInputError(`${file}: MCT's buffers come in pairs, and ${f} is missing`);
      mct.set(pair.waypoints, pair);
    } else if (/^(waypoint|step)_buffer_/.test(base)) {
      throw new TrajmatchInputError(
        `${file}: an MCT file of an ablation or unknown variant; only waypoint_buffer[_ipK]_N.pt and step_buffer[_ipK]_N.pt are read`,
      );
    } else mtt.push(file);
  }
  const byIndex = (a: string, b: string) => fileIndex(a) - fileIndex(b);

  const info = (epochs: number, expert: number, origin: string): ExpertInfo => ({
    dataset: o.dataset,
    convnet: spec,
    zca,
    preprocessing: publishedPreprocessing(o.dataset, zca, o.zcaEps ?? 0.1),
    // buffer.py's defaults, which the published experts were trained with
    epochs,
    lrTeacher: 0.01,
    momentum: 0,
    weightDecay: 0,
    batchSize: 256,
    dsa: DEFAULT_DSA_STRATEGY,
    seed: 0,
    expert,
    trainAccuracy: [],
    testAccuracy: null,
    origin,
  });
  const expected = (plan?: WaypointPlan) => ({
    dataset: o.dataset,
    convnet: spec,
    zca,
    preprocessing: publishedPreprocessing(o.dataset, zca, o.zcaEps ?? 0.1),
    ...(plan ? { waypoints: plan } : {}),
  });

  let next = o.firstExpert ?? 0;
  for (const file of mtt.sort(byIndex)) {
    const experts = await readMttBuffer(file, spec);
    for (const [i, x] of experts.entries()) {
      const target = path.join(dir, expertFileName(next, 'mtt'));
      if (fs.existsSync(target)) {
        openTrajectory(target, expected());
        result.kept.push(target);
      } else {
        await writeMttExpert(target, x.checkpoints, info(x.epochs, next, `${path.basename(file)}[${i}]`));
        result.written.push(target);
        onFile?.(target);
      }
      next++;
    }
  }

  next = o.firstExpert ?? 0;
  for (const pair of [...mct.values()].sort((a, b) => byIndex(a.waypoints, b.waypoints))) {
    const experts = await readMctBuffer(pair.waypoints, pair.steps, spec);
    for (const [i, x] of experts.entries()) {
      const plan = asPlan(o.waypoints ?? pair.k);
      const want = planEpochs(plan, x.epochs);
      if (JSON.stringify(want) !== JSON.stringify(x.data.waypointEpochs)) {
        throw new TrajmatchInputError(
          `${pair.waypoints}: expert ${i} has waypoints at epochs [${x.data.waypointEpochs.join(', ')}], not at those of ${describeWaypointPlan(plan)} ([${want.join(', ')}]); set import.waypoints to [${x.data.waypointEpochs.join(', ')}] to import them as they are`,
        );
      }
      const target = path.join(dir, expertFileName(next, 'mct', plan));
      if (fs.existsSync(target)) {
        openTrajectory(target, expected(plan));
        result.kept.push(target);
      } else {
        await writeMctExpert(target, x.data, info(x.epochs, next, `${path.basename(pair.waypoints)}[${i}] + ${path.basename(pair.steps)}[${i}]`), plan);
        result.written.push(target);
        onFile?.(target);
      }
      next++;
    }
  }
  return result;
}

export interface ExportOptions {
  form: 'mtt' | 'mct';
  /** The waypoint plan of the MCT files to export (default K = 4). */
  waypoints?: Waypoints;
  /** Experts per .pt file (buffer.py's save_interval: 10). */
  expertsPerFile?: number;
}

/** Where the published scripts look for a buffer, relative to their --buffer_path. */
export function publishedBufferFolder(dataset: string, zca: boolean, depth: number): string {
  const names: Record<string, string> = { cifar10: 'CIFAR10', cifar100: 'CIFAR100', 'tiny-imagenet': 'Tiny', mnist: 'MNIST', 'fashion-mnist': 'FashionMNIST' };
  const name = names[dataset] ?? dataset;
  // MTT appends _NO_ZCA for CIFAR without ZCA; MCT's scripts also for Tiny
  const noZca = !zca && ['CIFAR10', 'CIFAR100', 'Tiny'].includes(name) ? '_NO_ZCA' : '';
  return path.join(`${name}${noZca}`, depth === 3 ? 'ConvNet' : `ConvNetD${depth}`);
}

/** Writes the experts of one of our buffer folders as published .pt files into outDir. */
export async function exportPublishedBuffer(
  dir: string,
  outDir: string,
  o: ExportOptions,
  onFile?: (file: string) => void,
): Promise<{ files: string[]; publishedFolder: string }> {
  const plan = asPlan(o.waypoints ?? DEFAULT_WAYPOINTS);
  checkOutputDir(outDir, 'outDir');
  const sources = listExpertFiles(dir, o.form, plan);
  if (sources.length === 0) {
    throw new TrajmatchInputError(
      `${dir}: no ${o.form === 'mtt' ? 'MTT expert files (expert_NNN.mtt.safetensors)' : `MCT expert files with ${describeWaypointPlan(plan)}`} to export`,
    );
  }
  const per = o.expertsPerFile ?? 10;
  if (!Number.isInteger(per) || per < 1) throw new TrajmatchInputError(`expertsPerFile: expected a positive integer, received ${per}`);
  const files: string[] = [];
  let publishedFolder = '';
  for (let n = 0; n * per < sources.length; n++) {
    // the files were picked by the plan's name; openTrajectory checks what each holds
    const group = sources.slice(n * per, (n + 1) * per).map((f) => openTrajectory(f));
    const first = group[0];
    publishedFolder = publishedBufferFolder(first.info.dataset, first.info.zca, first.info.convnet.depth);
    for (const t of group) {
      if (t.epochs !== first.epochs || JSON.stringify(t.info.convnet) !== JSON.stringify(first.info.convnet)) {
        throw new TrajmatchInputError(`${t.file}: its network or epochs differ from ${first.file}; a .pt buffer holds experts of one kind`);
      }
    }
    if (o.form === 'mtt') {
      const file = path.join(outDir, `replay_buffer_${n}.pt`);
      await writeMttBuffer(
        file,
        first.info.convnet,
        group.map((t) => {
          const checkpoints = new Float32Array((t.epochs + 1) * t.numParams);
          for (let e = 0; e <= t.epochs; e++) checkpoints.set(t.paramsAt(e), e * t.numParams);
          return { epochs: t.epochs, checkpoints };
        }),
      );
      files.push(file);
      onFile?.(file);
    } else {
      const mcts = group as MctTrajectory[];
      const count = mcts[0].data.waypointEpochs.length;
      if (mcts.some((t) => JSON.stringify(t.data.waypointEpochs) !== JSON.stringify(mcts[0].data.waypointEpochs))) {
        throw new TrajmatchInputError(`${dir}: the experts' waypoints differ; a .pt pair holds experts with the same waypoints`);
      }
      const names = mctFileNames(count, n);
      const waypointFile = path.join(outDir, names.waypoints);
      const stepFile = path.join(outDir, names.steps);
      await writeMctBuffer(
        waypointFile,
        stepFile,
        first.info.convnet,
        mcts.map((t) => ({ epochs: t.epochs, data: t.data })),
      );
      files.push(waypointFile, stepFile);
      onFile?.(waypointFile);
      onFile?.(stepFile);
    }
  }
  return { files, publishedFolder };
}
