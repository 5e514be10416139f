/**
 * The PyTorch eager reference: the published Python loops of one distillation iteration (MTT's
 * distill.py for unroll, MCT's distill_compressed.py for tesla), timed on the same cells, network
 * and machine as our own timings, with Python's torch (on Debian, python3-torch: the same libtorch
 * as the engine's). Each cell runs in a Python process of its own, so that its peak memory is its
 * own. Where it cannot run (no Python with torch, a failing script) the result says why; nothing
 * is made up.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { GradMethod } from '../distill/match';
import { convNetLayout, convNetSpec } from '../model/convnet';
import { TimingCell, TimingJob } from './timing';

/** The bundled reference (scripts/reference/eager_iteration.py). */
export const REFERENCE_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'reference', 'eager_iteration.py');

/** Gradient methods with a published Python loop to compare against (adjoint is ours alone). */
export const REFERENCE_METHODS: readonly GradMethod[] = ['unroll', 'tesla'];

export interface ReferenceRow {
  gradMethod: GradMethod;
  ipc: number;
  synSteps: number;
  batchSyn: number | null;
  msPerIteration: number;
  samplesMs: number[];
  minorFaultsPerIteration: number;
  userSeconds: number;
  systemSeconds: number;
  peakRssBytes: number;
  torch: string;
  threads: number;
  /** The reference network's parameter count: the engine's, or the comparison is refused. */
  numParams: number;
}

export type ReferenceResult = { available: true; script: string; python: string; rows: ReferenceRow[] } | { available: false; script: string; reason: string };

/**
 * A Python that imports torch: TRAJMATCH_PYTHON, else Debian's (python3 on PATH may be another
 * one, e.g. pyenv's without torch), else python3.
 */
export function findTorchPython(): { python: string } | { reason: string } {
  const candidates = process.env.TRAJMATCH_PYTHON ? [process.env.TRAJMATCH_PYTHON] : ['/usr/bin/python3', 'python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return { python };
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-1)[0]}`);
  }
  return { reason: `no Python with torch (${tried.join('; ')}); install python3-torch (Debian) or set TRAJMATCH_PYTHON` };
}

/** The reference's row of the same cell as a timing of ours, where the reference ran it. */
export function referenceRowFor(reference: ReferenceResult | null, cell: TimingCell): ReferenceRow | undefined {
  if (!reference?.available) return undefined;
  return reference.rows.find((x) => x.gradMethod === cell.gradMethod && x.ipc === cell.ipc && x.synSteps === cell.synSteps);
}

/** Runs the reference's cells (those of `cells` it has a loop for) one process each. */
export function runReference(script: string, job: Omit<TimingJob, 'cell'>, cells: readonly TimingCell[]): ReferenceResult {
  if (!fs.existsSync(script)) return { available: false, script, reason: `${script} not found` };
  const found = findTorchPython();
  if ('reason' in found) return { available: false, script, reason: found.reason };
  // the network as the engine resolves it; the reference writes the published ConvNet only
  const network = convNetSpec(job.network);
  if (network.norm !== 'instance' || network.activation !== 'relu' || network.pooling !== 'avg') {
    return {
      available: false,
      script,
      reason: `the reference has the published ConvNet only (instance norm, ReLU, average pooling), not ${network.norm}/${network.activation}/${network.pooling}`,
    };
  }
  const rows: ReferenceRow[] = [];
  for (const cell of cells.filter((c) => REFERENCE_METHODS.includes(c.gradMethod))) {
    const input = JSON.stringify({ network, dsa: job.dsa, device: job.device.startsWith('cuda') ? job.device : 'cpu', cells: [cell] });
    const r = spawnSync(found.python, [script], { input, encoding: 'utf8', timeout: 3600_000, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const what = `the reference's ${cell.gradMethod} IPC ${cell.ipc}`;
    if (r.error) return { available: false, script, reason: `${what} could not be run (${r.error.message})` };
    if (r.status !== 0) return { available: false, script, reason: `${what} exited with ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-1)[0]}` };
    const line = r.stdout.split('\n').find((l) => l.trim().startsWith('{'));
    if (!line) return { available: false, script, reason: `${what} printed no result` };
    const row = JSON.parse(line) as ReferenceRow;
    const numParams = convNetLayout(network).numParams;
    if (row.numParams !== numParams)
      return { available: false, script, reason: `${what} built a network of ${row.numParams} parameters, not the engine's ${numParams}` };
    rows.push(row);
  }
  return { available: true, script, python: found.python, rows };
}
