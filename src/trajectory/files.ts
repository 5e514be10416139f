/**
 * Expert files: one safetensors file per expert and form, readable from Python's safetensors.
 *   MTT  expert_007.mtt.safetensors   "checkpoints" F32 [T + 1, P]
 *   MCT  expert_007.mct4.safetensors  "waypoints" F32 [K, P], "fractions" F32 [T + 1, L],
 *        (uniform, K = 4)             "waypoint_epochs" I64 [K]
 *        expert_007.mct-0-6-25-50.safetensors  the same, waypoints at explicit epochs (convexify.py)
 * Metadata: "format", "trajmatch_expert" (JSON: dataset, network, preprocessing, training
 * settings, accuracies), "param_layout" (JSON: the name and shape of each tensor of the flat
 * vector), "published_layout" (JSON: [name, shape, offset] of each tensor under the published
 * ConvNet's parameter names, features.0.weight ..., to load a checkpoint into it by name) and,
 * for MCT, "waypoint_plan" (JSON: the scheme and K or the epochs).
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { convNetLayout, ParamLayout } from '../model/convnet';
import { metadataJson } from '../io/metadata';
import { readSafetensors, readSafetensorsHeader, requireTensor, SafetensorsError, writeSafetensors } from '../io/safetensors';
import { checkExpertMatches, ExpectedExpert, ExpertInfo, parseExpertInfo } from './expert-info';
import { MctData, MctTrajectory } from './mct';
import { MttTrajectory } from './mtt';
import { publishedLayout } from './published-names';
import { segmentsOf } from './segments';
import { Trajectory, TrajectoryKind } from './trajectory';
import { asPlan, describeWaypointPlan, planEpochs, waypointEpochs, WaypointPlan, Waypoints, waypointTag } from './waypoints';

export type { Waypoints } from './waypoints';
export { asPlan } from './waypoints';

export const MTT_FORMAT = 'trajmatch.mtt/1';
export const MCT_FORMAT = 'trajmatch.mct/1';

/** K, MCT's waypoints per trajectory, as published. */
export const DEFAULT_WAYPOINTS = 4;

/** The end of an expert file's name: ".mtt.safetensors", ".mct4.safetensors" or ".mct-0-6-25-50.safetensors". */
function expertFileSuffix(kind: TrajectoryKind, waypoints: Waypoints): string {
  return kind === 'mtt' ? '.mtt.safetensors' : `.${waypointTag(asPlan(waypoints))}.safetensors`;
}

/** expert_007.mtt.safetensors, expert_007.mct4.safetensors: the one place expert files are named. */
export function expertFileName(expert: number, kind: TrajectoryKind, waypoints: Waypoints = DEFAULT_WAYPOINTS): string {
  return `expert_${String(expert).padStart(3, '0')}${expertFileSuffix(kind, waypoints)}`;
}

/** The name pattern of a form's files, for messages: expert_NNN.mct4.safetensors. */
export function expertFilePattern(kind: TrajectoryKind, waypoints: Waypoints = DEFAULT_WAYPOINTS): string {
  return `expert_NNN${expertFileSuffix(kind, waypoints)}`;
}

function metadataOf(format: string, info: ExpertInfo, layout: ParamLayout): Record<string, string> {
  return {
    format,
    trajmatch_expert: JSON.stringify(info),
    param_layout: JSON.stringify(layout.tensors.map((t) => [t.name, t.shape])),
    published_layout: JSON.stringify(publishedLayout(info.convnet).map((t) => [t.name, t.shape, t.offset])),
  };
}

export function writeMttExpert(file: string, checkpoints: Float32Array, info: ExpertInfo): Promise<void> {
  const layout = convNetLayout(info.convnet);
  return writeSafetensors(file, { checkpoints: { values: checkpoints, shape: [info.epochs + 1, layout.numParams] } }, metadataOf(MTT_FORMAT, info, layout));
}

export function writeMctExpert(file: string, data: MctData, info: ExpertInfo, plan: Waypoints): Promise<void> {
  const layout = convNetLayout(info.convnet);
  const K = data.waypointEpochs.length;
  return writeSafetensors(
    file,
    {
      waypoints: { values: data.waypoints, shape: [K, layout.numParams] },
      fractions: { values: data.fractions, shape: [info.epochs + 1, layout.tensors.length] },
      waypoint_epochs: { values: BigInt64Array.from(data.waypointEpochs, BigInt), shape: [K] },
    },
    { ...metadataOf(MCT_FORMAT, info, layout), waypoint_plan: JSON.stringify(asPlan(plan)) },
  );
}

const waypointPlanSchema = z.discriminatedUnion('scheme', [
  z.strictObject({ scheme: z.literal('uniform'), count: z.number().int().min(2) }),
  z.strictObject({ scheme: z.literal('convexify'), epochs: z.array(z.number().int().nonnegative()).min(2) }),
]);

/**
 * The waypoint plan an MCT file was made with. Files of earlier versions do not record it: those
 * with K > 2 evenly placed waypoints match today's uniform scheme; K = 2 files smoothed their last
 * waypoint, which the published code does not, and other placements are not the published one.
 */
function planOf(metadata: Record<string, string>, file: string, epochs: number, w: number[]): WaypointPlan {
  if (metadata.waypoint_plan !== undefined) {
    const plan: WaypointPlan = metadataJson(metadata, 'waypoint_plan', waypointPlanSchema, file, 'not a valid MCT expert file');
    let planned: number[];
    try {
      planned = planEpochs(plan, epochs);
    } catch (e) {
      throw new SafetensorsError(`${file}: its waypoint_plan does not fit its ${epochs} epochs: ${(e as Error).message}`);
    }
    if (JSON.stringify(planned) !== JSON.stringify(w)) {
      throw new SafetensorsError(
        `${file}: its waypoint_plan (${describeWaypointPlan(plan)}) places waypoints at [${planned.join(', ')}], but its waypoint_epochs are [${w.join(', ')}]`,
      );
    }
    return plan;
  }
  const K = w.length;
  if (K > 2 && JSON.stringify(waypointEpochs(epochs, K)) === JSON.stringify(w)) return { scheme: 'uniform', count: K };
  throw new SafetensorsError(
    `${file}: made by an earlier version whose ${K} waypoints [${w.join(', ')}] were placed or smoothed differently from the published code; delete it and convert its MTT file again (trajmatch convert), or retrain the expert`,
  );
}

function checkShape(file: string, name: string, shape: number[], expected: number[]): void {
  if (shape.length !== expected.length || shape.some((s, i) => s !== expected[i])) {
    throw new SafetensorsError(`${file}: tensor ${name} has shape [${shape.join(',')}], expected [${expected.join(',')}] for this expert's network and epochs`);
  }
}

/**
 * Opens an expert file of either form. With `expected`, a file made for another dataset or network
 * is refused with a message naming the file and what differs.
 */
/** The form and info of an expert file's metadata, checked against `expected` when given. */
function expertOf(metadata: Record<string, string>, file: string, expected?: ExpectedExpert): { format: string; info: ExpertInfo } {
  const format = metadata.format;
  if (format !== MTT_FORMAT && format !== MCT_FORMAT) {
    throw new SafetensorsError(`${file}: not a trajmatch expert file (format ${JSON.stringify(format)}, expected ${MTT_FORMAT} or ${MCT_FORMAT})`);
  }
  const info = parseExpertInfo(metadata, file);
  if (expected) checkExpertMatches(info, expected, file);
  return { format, info };
}

/**
 * The info of an expert file from its header alone (format, settings, fit to `expected`, and
 * sizes against the file's length), without reading its checkpoints: for looking over a buffer.
 */
export function readExpertInfo(file: string, expected?: ExpectedExpert): ExpertInfo {
  return expertOf(readSafetensorsHeader(file).metadata, file, expected).info;
}

export function openTrajectory(file: string, expected?: ExpectedExpert & { waypoints?: Waypoints }): Trajectory {
  const content = readSafetensors(file);
  const { format, info } = expertOf(content.metadata, file, expected);
  const layout = convNetLayout(info.convnet);
  const P = layout.numParams;
  if (format === MTT_FORMAT) {
    const t = requireTensor(content, 'checkpoints', file, 'F32', 2);
    checkShape(file, 'checkpoints', t.shape, [info.epochs + 1, P]);
    const bad = (t.values as Float32Array).findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new SafetensorsError(`${file}: the checkpoint of epoch ${Math.floor(bad / P)} holds a non-finite value at parameter ${bad % P}`);
    }
    return new MttTrajectory(file, info, info.epochs, P, t.values as Float32Array);
  }
  const waypoints = requireTensor(content, 'waypoints', file, 'F32', 2);
  const fractions = requireTensor(content, 'fractions', file, 'F32', 2);
  const epochs = requireTensor(content, 'waypoint_epochs', file, 'I64', 1);
  const K = epochs.shape[0];
  checkShape(file, 'waypoints', waypoints.shape, [K, P]);
  checkShape(file, 'fractions', fractions.shape, [info.epochs + 1, layout.tensors.length]);
  const w = Array.from(epochs.values as BigInt64Array, Number);
  if (K < 2 || w[0] !== 0 || w[K - 1] !== info.epochs || w.some((v, i) => i > 0 && v <= w[i - 1])) {
    throw new SafetensorsError(`${file}: waypoint_epochs [${w.join(',')}] must rise from 0 to ${info.epochs}`);
  }
  const plan = planOf(content.metadata, file, info.epochs, w);
  if (expected?.waypoints !== undefined && waypointTag(plan) !== waypointTag(asPlan(expected.waypoints))) {
    throw new SafetensorsError(`${file}: holds ${describeWaypointPlan(plan)}, but the run asks for ${describeWaypointPlan(asPlan(expected.waypoints))}`);
  }
  for (const [name, values] of [
    ['waypoints', waypoints.values],
    ['fractions', fractions.values],
  ] as const) {
    const bad = (values as Float32Array).findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new SafetensorsError(`${file}: tensor ${name} holds a non-finite value at element ${bad}`);
  }
  return new MctTrajectory(file, info, info.epochs, P, segmentsOf(layout), {
    waypointEpochs: w,
    waypoints: waypoints.values as Float32Array,
    fractions: fractions.values as Float32Array,
  });
}

/** The expert files of one form in a buffer folder, sorted by expert index. */
export function listExpertFiles(dir: string, kind: TrajectoryKind, waypoints: Waypoints = DEFAULT_WAYPOINTS): string[] {
  if (!fs.existsSync(dir)) return [];
  const suffix = expertFileSuffix(kind, waypoints);
  return fs
    .readdirSync(dir)
    .filter((f) => /^expert_\d+\./.test(f) && f.endsWith(suffix))
    .sort()
    .map((f) => path.join(dir, f));
}
