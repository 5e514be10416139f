/**
 * The published buffer files, read and written without Python (the engine reads and writes
 * torch.save's format; see native/io/torch_file.h):
 *   MTT  replay_buffer_N.pt (buffer.py): a list of experts, each a list of T + 1 checkpoints, each
 *        the list of the ConvNet's parameter tensors in module order (published-names.ts).
 *   MCT  waypoint_buffer[_ipK]_N.pt + step_buffer[_ipK]_N.pt (exps/trajectory_compression.py):
 *        per expert, its waypoints (each a list of parameter tensors) and its path-length
 *        fractions, one 0-d tensor per parameter tensor and checkpoint: a flat list of T + 1
 *        checkpoints for K = 2 (no _ip in the names), else one list per segment, each running from
 *        its first waypoint to its last (so the waypoint epochs follow from the segment lengths).
 * Everything read is checked against the network (tensor count and shapes) and refused with the
 * file, the place in it and what was expected.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tensor } from '../backend/tensor';
import { torchLoad, torchSave } from '../engine';
import { TrajmatchInputError } from '../errors';
import { ConvNetSpec } from '../model/convnet';
import { PickledValue, Tensor } from '../native';
import { MctData } from './mct';
import { PublishedTensor, publishedLayout } from './published-names';

const MTT_SHAPE = "MTT's replay_buffer_N.pt: a list of experts, each a list of per-epoch lists of the network's parameter tensors";

/** What a pickled value is, for messages. */
export function describePickled(v: PickledValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if ('tuple' in v && Array.isArray(v.tuple)) return `a tuple of ${v.tuple.length}`;
  if ('dict' in v && Array.isArray(v.dict)) return `a dict of ${v.dict.length} entries`;
  const t = v as Tensor;
  return `a ${t.dtype} tensor of shape [${t.shape.join(', ')}]`;
}

function isTensor(v: PickledValue): v is Tensor {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !('tuple' in v) && !('dict' in v);
}

/** Frees every tensor handle of a loaded value. */
export function disposePickled(v: PickledValue): void {
  const work: PickledValue[] = [v];
  while (work.length > 0) {
    const x = work.pop()!;
    if (Array.isArray(x)) work.push(...x);
    else if (isTensor(x)) {
      if (!x.disposed) x.dispose();
    } else if (x !== null && typeof x === 'object') {
      if ('tuple' in x) work.push(...x.tuple);
      else if ('dict' in x) for (const [k, val] of x.dict) work.push(k, val);
    }
  }
}

/** Reads a torch.save file: plain data only, nothing in it run. The caller frees the tensors (disposePickled). */
export function loadTorchFile(file: string): Promise<PickledValue> {
  if (!fs.existsSync(file)) throw new TrajmatchInputError(`${file}: no such file`);
  return torchLoad(path.resolve(file));
}

/** Writes a value as torch.save would, atomically (a temporary file renamed over the target). */
export async function saveTorchFile(file: string, value: PickledValue): Promise<void> {
  await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${path.resolve(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await torchSave(tmp, value);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

function list(v: PickledValue, file: string, where: string, expected: string): PickledValue[] {
  if (!Array.isArray(v)) throw new TrajmatchInputError(`${file}: ${where}expected ${expected}, found ${describePickled(v)}`);
  return v;
}

/** The flat parameters of one checkpoint: a list of the layout's tensors, in order. */
function checkpointValues(v: PickledValue, layout: PublishedTensor[], file: string, where: string, out: Float32Array, offset: number): void {
  const tensors = list(v, file, where, `a list of ${layout.length} parameter tensors`);
  if (tensors.length !== layout.length) {
    throw new TrajmatchInputError(
      `${file}: ${where}expected ${layout.length} parameter tensors (${layout.map((t) => t.name).join(', ')}), found ${tensors.length}: not a buffer of this network, or another network's`,
    );
  }
  tensors.forEach((t, l) => {
    const want = layout[l];
    if (!isTensor(t)) throw new TrajmatchInputError(`${file}: ${where}tensor ${l} (${want.name}): expected a tensor, found ${describePickled(t)}`);
    if (t.shape.length !== want.shape.length || t.shape.some((s, i) => s !== want.shape[i])) {
      throw new TrajmatchInputError(`${file}: ${where}tensor ${l} (${want.name}): expected shape [${want.shape.join(', ')}], found [${t.shape.join(', ')}]`);
    }
    if (!['float32', 'float64', 'float16', 'bfloat16'].includes(t.dtype)) {
      throw new TrajmatchInputError(`${file}: ${where}tensor ${l} (${want.name}): expected floating-point parameters, found ${t.dtype}`);
    }
    const values = t.toArray() as ArrayLike<number>;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new TrajmatchInputError(`${file}: ${where}tensor ${l} (${want.name}) holds a non-finite value`);
      out[offset + want.offset + i] = values[i];
    }
  });
}

/** A number stored as a 0-d (or one-element) tensor or a plain number. */
function scalar(v: PickledValue, file: string, where: string): number {
  let x: number | undefined;
  if (typeof v === 'number') x = v;
  else if (isTensor(v) && v.numel === 1) x = Number((v.toArray() as ArrayLike<number>)[0]);
  if (x === undefined || !Number.isFinite(x))
    throw new TrajmatchInputError(`${file}: ${where}expected a finite number (a 0-d tensor), found ${describePickled(v)}`);
  return x;
}

/** The experts of an MTT replay buffer: each (T + 1) x P checkpoints. */
export async function readMttBuffer(file: string, spec: ConvNetSpec): Promise<{ epochs: number; checkpoints: Float32Array }[]> {
  const value = await loadTorchFile(file);
  try {
    const layout = publishedLayout(spec);
    const P = layout.reduce((a, t) => a + t.numel, 0);
    const experts = list(value, file, '', `${MTT_SHAPE}`);
    if (experts.length === 0) throw new TrajmatchInputError(`${file}: holds no experts (an empty list)`);
    let epochs = -1;
    return experts.map((expert, e) => {
      const checkpoints = list(expert, file, `expert ${e}: `, 'a list of per-epoch checkpoints');
      if (checkpoints.length < 2)
        throw new TrajmatchInputError(`${file}: expert ${e}: expected at least 2 checkpoints (epochs 0 and T), found ${checkpoints.length}`);
      if (epochs >= 0 && checkpoints.length !== epochs + 1) {
        throw new TrajmatchInputError(`${file}: expert ${e} has ${checkpoints.length} checkpoints, but expert 0 has ${epochs + 1}`);
      }
      epochs = checkpoints.length - 1;
      const out = new Float32Array(checkpoints.length * P);
      checkpoints.forEach((c, t) => checkpointValues(c, layout, file, `expert ${e}, epoch ${t}: `, out, t * P));
      return { epochs, checkpoints: out };
    });
  } finally {
    disposePickled(value);
  }
}

function checkpointTensors(values: Float32Array, layout: PublishedTensor[]): Tensor[] {
  return layout.map((t) => tensor(values.subarray(t.offset, t.offset + t.numel), t.shape, { device: 'cpu' }));
}

/** Writes experts ((T + 1) x P checkpoints each) as an MTT replay buffer. */
export async function writeMttBuffer(file: string, spec: ConvNetSpec, experts: { epochs: number; checkpoints: Float32Array }[]): Promise<void> {
  const layout = publishedLayout(spec);
  const P = layout.reduce((a, t) => a + t.numel, 0);
  const value: PickledValue = experts.map((x) =>
    Array.from({ length: x.epochs + 1 }, (_, t) => checkpointTensors(x.checkpoints.subarray(t * P, (t + 1) * P), layout)),
  );
  try {
    await saveTorchFile(file, value);
  } finally {
    disposePickled(value);
  }
}

/** The published MCT files of a buffer file index: K = 2 has no _ip in the names. */
export function mctFileNames(count: number, n: number): { waypoints: string; steps: string } {
  const ip = count > 2 ? `_ip${count}` : '';
  return { waypoints: `waypoint_buffer${ip}_${n}.pt`, steps: `step_buffer${ip}_${n}.pt` };
}

/** The experts of a published MCT pair of files, in our form (waypoints, fractions), for a trajectory of `epochs`. */
export async function readMctBuffer(waypointFile: string, stepFile: string, spec: ConvNetSpec): Promise<{ epochs: number; data: MctData }[]> {
  const waypointValue = await loadTorchFile(waypointFile);
  let stepValue: PickledValue = null;
  try {
    stepValue = await loadTorchFile(stepFile);
    const layout = publishedLayout(spec);
    const P = layout.reduce((a, t) => a + t.numel, 0);
    const L = layout.length;
    const wExperts = list(waypointValue, waypointFile, '', 'a list of experts, each a list of waypoints (lists of parameter tensors)');
    const sExperts = list(stepValue, stepFile, '', 'a list of experts, each its path-length fractions');
    if (wExperts.length !== sExperts.length) {
      throw new TrajmatchInputError(`${stepFile}: holds ${sExperts.length} experts, but ${waypointFile} holds ${wExperts.length}`);
    }
    if (wExperts.length === 0) throw new TrajmatchInputError(`${waypointFile}: holds no experts (an empty list)`);
    return wExperts.map((we, e) => {
      const wps = list(we, waypointFile, `expert ${e}: `, 'a list of waypoints');
      const steps = list(sExperts[e], stepFile, `expert ${e}: `, 'a list of fractions (per checkpoint, or per segment)');
      if (steps.length === 0) throw new TrajmatchInputError(`${stepFile}: expert ${e}: holds no fractions`);
      const first = list(steps[0], stepFile, `expert ${e}, entry 0: `, 'a list');
      // K = 2: a flat list of checkpoints (each L numbers); else a list of segments (each a list of checkpoints)
      const segments =
        first.length > 0 && Array.isArray(first[0]) ? steps.map((s, j) => list(s, stepFile, `expert ${e}, segment ${j}: `, 'a list of checkpoints')) : [steps];
      if (wps.length !== segments.length + 1) {
        throw new TrajmatchInputError(
          `${waypointFile}: expert ${e}: expected ${segments.length + 1} waypoints for the ${segments.length} segment(s) of ${stepFile}, found ${wps.length}`,
        );
      }
      const waypointEpochs = [0];
      for (const [j, s] of segments.entries()) {
        if (s.length < 2) throw new TrajmatchInputError(`${stepFile}: expert ${e}, segment ${j}: expected at least 2 checkpoints, found ${s.length}`);
        waypointEpochs.push(waypointEpochs[j] + s.length - 1);
      }
      const epochs = waypointEpochs[waypointEpochs.length - 1];
      const fractions = new Float32Array((epochs + 1) * L);
      segments.forEach((s, j) => {
        s.forEach((point, p) => {
          const where = `expert ${e}, ${segments.length > 1 ? `segment ${j}, ` : ''}checkpoint ${p}: `;
          const row = list(point, stepFile, where, `a list of ${L} fractions`);
          if (row.length !== L) throw new TrajmatchInputError(`${stepFile}: ${where}expected ${L} fractions (one per parameter tensor), found ${row.length}`);
          const values = row.map((v) => scalar(v, stepFile, where));
          // a segment's last checkpoint is the next one's first: ours keeps the next segment's 0 there
          if (p < s.length - 1)
            values.forEach((v, l) => {
              fractions[(waypointEpochs[j] + p) * L + l] = v;
            });
        });
      });
      for (let l = 0; l < L; l++) fractions[epochs * L + l] = 1;
      const waypoints = new Float32Array(wps.length * P);
      wps.forEach((w, j) => checkpointValues(w, layout, waypointFile, `expert ${e}, waypoint ${j}: `, waypoints, j * P));
      return { epochs, data: { waypointEpochs, waypoints, fractions } };
    });
  } finally {
    disposePickled(waypointValue);
    disposePickled(stepValue);
  }
}

/** Writes experts in our MCT form as a published pair of files (flat fractions for 2 waypoints, else per segment). */
export async function writeMctBuffer(waypointFile: string, stepFile: string, spec: ConvNetSpec, experts: { epochs: number; data: MctData }[]): Promise<void> {
  const layout = publishedLayout(spec);
  const P = layout.reduce((a, t) => a + t.numel, 0);
  const L = layout.length;
  const scalarRow = (values: ArrayLike<number>) => Array.from(values, (v) => tensor(Float32Array.of(v), [], { device: 'cpu' }));
  const waypointValue: PickledValue = experts.map(({ data }) =>
    Array.from({ length: data.waypointEpochs.length }, (_, j) => checkpointTensors(data.waypoints.subarray(j * P, (j + 1) * P), layout)),
  );
  const stepValue: PickledValue = experts.map(({ epochs, data }) => {
    const w = data.waypointEpochs;
    const segment = (j: number) =>
      Array.from({ length: w[j + 1] - w[j] + 1 }, (_, p) => {
        const i = w[j] + p;
        return scalarRow(i === w[j + 1] ? new Float32Array(L).fill(1) : data.fractions.subarray(i * L, (i + 1) * L));
      });
    if (w.length === 2) return segment(0);
    if (w[w.length - 1] !== epochs) throw new Error('waypoint epochs must end at T');
    return Array.from({ length: w.length - 1 }, (_, j) => segment(j));
  });
  try {
    await saveTorchFile(waypointFile, waypointValue);
    await saveTorchFile(stepFile, stepValue);
  } finally {
    disposePickled(waypointValue);
    disposePickled(stepValue);
  }
}
