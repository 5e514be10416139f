/** Converting an MTT buffer into MCT's convexified form, and the storage of both. */
import * as fs from 'fs';
import * as path from 'path';
import { convNetLayout } from '../model/convnet';
import { TrajmatchInputError } from '../errors';
import { asPlan, DEFAULT_WAYPOINTS, expertFileName, expertFilePattern, listExpertFiles, openTrajectory, Waypoints, writeMctExpert } from './files';
import { MctData, MctRecorder } from './mct';
import { segmentsOf } from './segments';
import { Trajectory } from './trajectory';

export interface ConvertResult {
  converted: string[];
  /** MCT files already there (and valid), left as they were. */
  kept: string[];
}

/**
 * MCT's convexified form (K uniform waypoints, or a waypoint plan) of an MTT trajectory: its
 * checkpoints fed through the same recorder that training writes with, so that both routes give
 * the same bytes.
 */
export function convexify(mtt: Trajectory, waypoints: Waypoints): MctData {
  const recorder = new MctRecorder(mtt.epochs, mtt.numParams, segmentsOf(convNetLayout(mtt.info.convnet)), asPlan(waypoints));
  for (let t = 0; t <= mtt.epochs; t++) recorder.add(t, mtt.paramsAt(t));
  return recorder.finish();
}

/** Writes the MCT form (K uniform waypoints, or a waypoint plan) of every MTT expert in `dir` that lacks it. */
export async function convertBuffer(dir: string, waypoints: Waypoints = DEFAULT_WAYPOINTS, onFile?: (file: string) => void): Promise<ConvertResult> {
  const plan = asPlan(waypoints);
  const sources = listExpertFiles(dir, 'mtt');
  if (sources.length === 0) throw new TrajmatchInputError(`${dir}: no MTT expert files (${expertFilePattern('mtt')}) to convert`);
  const result: ConvertResult = { converted: [], kept: [] };
  for (const source of sources) {
    const mtt = openTrajectory(source);
    const target = path.join(dir, expertFileName(mtt.info.expert, 'mct', plan));
    if (fs.existsSync(target)) {
      openTrajectory(target, {
        dataset: mtt.info.dataset,
        convnet: mtt.info.convnet,
        zca: mtt.info.zca,
        preprocessing: mtt.info.preprocessing,
        waypoints: plan,
      });
      result.kept.push(target);
      continue;
    }
    await writeMctExpert(target, convexify(mtt, plan), mtt.info, plan);
    result.converted.push(target);
    onFile?.(target);
  }
  return result;
}

export interface StorageReport {
  experts: number;
  mttBytes: number;
  mctBytes: number;
  /** MTT bytes / MCT bytes over the experts that have both forms. */
  ratio: number;
}

/** Bytes of both forms over the experts of `dir` that have both. */
export function storageReport(dir: string, waypoints: Waypoints = DEFAULT_WAYPOINTS): StorageReport {
  let mttBytes = 0;
  let mctBytes = 0;
  let experts = 0;
  const mctFiles = new Set(listExpertFiles(dir, 'mct', waypoints));
  for (const mtt of listExpertFiles(dir, 'mtt')) {
    const mct = path.join(dir, expertFileName(expertIndex(mtt), 'mct', waypoints));
    if (!mctFiles.has(mct)) continue;
    mttBytes += fs.statSync(mtt).size;
    mctBytes += fs.statSync(mct).size;
    experts++;
  }
  return { experts, mttBytes, mctBytes, ratio: mctBytes > 0 ? mttBytes / mctBytes : NaN };
}

/** The expert index in an expert file's name (expert_007.mtt.safetensors -> 7). */
function expertIndex(file: string): number {
  return Number(/^expert_(\d+)\./.exec(path.basename(file))![1]);
}
