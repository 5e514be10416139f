/**
 * The experts a distillation run matches: the files of the chosen form in the buffer that fits
 * the dataset and network, checked against the run's stretch before any work, and opened lazily
 * (a few at a time: MTT files are large).
 */
import { Dataset } from '../data/dataset';
import { TrajmatchInputError } from '../errors';
import { ConvNetSpec } from '../model/convnet';
import { bufferDir } from '../trajectory/buffer';
import { ExpectedExpert } from '../trajectory/expert-info';
import { expertFilePattern, listExpertFiles, openTrajectory } from '../trajectory/files';
import { Trajectory } from '../trajectory/trajectory';
import { waypointPlan } from '../trajectory/waypoints';
import { ParsedDistillOptions } from './options';

/** Trajectories kept open at once. */
const OPEN_TRAJECTORIES = 8;

export interface RunExperts {
  dir: string;
  files: string[];
  /** T: the epochs of every trajectory. */
  epochs: number;
  /** Expert k's trajectory. */
  trajectory(k: number): Trajectory;
}

/** The experts of the run; throws naming the buffer when there are none, or when the run's stretch does not fit them. */
export function openRunExperts(dataset: Dataset, spec: ConvNetSpec, o: ParsedDistillOptions): RunExperts {
  const zca = dataset.zca !== undefined;
  const dir = bufferDir(o.bufferPath, dataset.name, spec, zca);
  const plan = waypointPlan(o.waypoints, o.waypointEpochs);
  let files = listExpertFiles(dir, o.method, plan);
  if (o.maxExperts !== undefined) files = files.slice(0, o.maxExperts);
  if (files.length === 0) {
    throw new TrajmatchInputError(
      `no ${o.method.toUpperCase()} experts in ${dir} (expected ${expertFilePattern(o.method, plan)}): train them with npm run buffer (same dataset, network, ZCA setting and waypoints)`,
    );
  }
  const expected: ExpectedExpert = {
    dataset: dataset.name,
    convnet: spec,
    zca,
    preprocessing: dataset.preprocessing,
    ...(o.method === 'mct' ? { waypoints: plan } : {}),
  };
  const first = openTrajectory(files[0], expected);
  const T = first.epochs;
  if (o.method === 'mtt' && (!Number.isInteger(o.maxStartEpoch) || !Number.isInteger(o.expertEpochs))) {
    throw new TrajmatchInputError(
      `MTT matches checkpoints at integer epochs: maxStartEpoch (${o.maxStartEpoch}) and expertEpochs (${o.expertEpochs}) must be integers`,
    );
  }
  // MTT's last target is (maxStartEpoch - 1) + M and must be a checkpoint; MCT caps targets at T.
  const reach = o.maxStartEpoch - 1 + o.expertEpochs;
  if (o.method === 'mtt' && reach > T) {
    throw new TrajmatchInputError(
      `maxStartEpoch (${o.maxStartEpoch}) + expertEpochs (${o.expertEpochs}) reaches epoch ${reach}, beyond the ${T} epochs of the trajectories in ${dir}`,
    );
  }
  if (o.method === 'mct' && o.maxStartEpoch >= T) {
    throw new TrajmatchInputError(`maxStartEpoch (${o.maxStartEpoch}) must lie below the ${T} epochs of the trajectories in ${dir}`);
  }

  const open = new Map<number, Trajectory>([[0, first]]);
  return {
    dir,
    files,
    epochs: T,
    trajectory(k) {
      let t = open.get(k);
      if (!t) {
        if (open.size >= OPEN_TRAJECTORIES) open.delete(open.keys().next().value as number);
        t = openTrajectory(files[k], expected);
        if (t.epochs !== T) throw new TrajmatchInputError(`${files[k]}: has ${t.epochs} epochs, but ${files[0]} has ${T}`);
        open.set(k, t);
      }
      return t;
    },
  };
}
