/** What an expert file records about how its trajectory was made, and the checks against it. */
import * as path from 'path';
import { z } from 'zod';
import { Equals, Expect } from '../config/schema-types';
import { convNetSpecSchema, ConvNetSpec } from '../model/convnet';
import { metadataJson } from '../io/metadata';
import { SafetensorsError } from '../io/safetensors';
import { describePreprocessing, Preprocessing, preprocessingSchema, samePreprocessing } from '../data/stats';

/** What an expert file records (its trajmatch_expert metadata). */
export interface ExpertInfo {
  dataset: string;
  convnet: ConvNetSpec;
  zca: boolean;
  /**
   * What the expert's inputs were (normalisation, or ZCA of the raw pixels). Absent in files
   * written before ZCA followed the published rule; see checkExpertMatches.
   */
  preprocessing?: Preprocessing;
  /** Where an imported expert came from (a published .pt file and its index there). */
  origin?: string;
  /** T: epochs of expert training (the trajectory has T + 1 checkpoints). */
  epochs: number;
  lrTeacher: number;
  momentum: number;
  weightDecay: number;
  batchSize: number;
  /** The DSA strategy of every batch, or null without augmentation. */
  dsa: string | null;
  seed: number;
  /** Training images of a seeded subset (buffer.trainLimit), null for all; absent in files made before it was recorded. */
  trainLimit?: number | null;
  /** Index of the expert in its buffer. */
  expert: number;
  /** Train accuracy of each epoch, as the epoch went. */
  trainAccuracy: number[];
  /** Test accuracy after the last epoch. */
  testAccuracy: number | null;
}

/** @internal The schema of ExpertInfo. */
export const expertInfoSchema = z.object({
  dataset: z.string(),
  convnet: convNetSpecSchema,
  zca: z.boolean(),
  preprocessing: preprocessingSchema.optional(),
  origin: z.string().optional(),
  epochs: z.number().int().positive(),
  lrTeacher: z.number(),
  momentum: z.number(),
  weightDecay: z.number(),
  batchSize: z.number().int().positive(),
  dsa: z.string().nullable(),
  seed: z.number().int(),
  trainLimit: z.number().int().positive().nullable().optional(),
  expert: z.number().int().nonnegative(),
  trainAccuracy: z.array(z.number()),
  testAccuracy: z.number().nullable(),
});

// Fails to compile when the interface above and the schema differ (see config/schema-types.ts).
type _SameAsSchema = Expect<Equals<ExpertInfo, z.output<typeof expertInfoSchema>>>;

/** Reads the info of an expert file's metadata; a SafetensorsError naming the file if it is missing or malformed. */
export function parseExpertInfo(metadata: Record<string, string>, file: string): ExpertInfo {
  return metadataJson(metadata, 'trajmatch_expert', expertInfoSchema, file, 'not a trajmatch expert file');
}

const describeNet = (s: ConvNetSpec) =>
  `ConvNet depth ${s.depth} width ${s.netWidth} ${s.norm} ${s.activation} ${s.pooling} on ${s.channels}x${s.height}x${s.width}, ${s.numClasses} classes`;

/** The settings a run needs from an expert; an error naming the file says what differs. */
export interface ExpectedExpert {
  dataset: string;
  convnet: ConvNetSpec;
  zca?: boolean;
  /** What the run's networks see; a file trained on other inputs is refused. */
  preprocessing?: Preprocessing;
}

/**
 * Why a file written before the preprocessing was recorded cannot serve `expected`, or null if it
 * can: then ZCA was fitted on mean/std-normalised pixels (eps about 25x weaker than published) and
 * CIFAR-100 used its own statistics, where the published code uses CIFAR-10's. Other files saw the
 * inputs they see today.
 */
function legacyProblem(info: ExpertInfo): string | null {
  if (info.zca) return 'it was trained before ZCA followed the published rule (its ZCA was fitted on mean/std-normalised pixels, not on the raw [0, 1] pixels)';
  if (info.dataset === 'cifar100')
    return "it was trained on CIFAR-100 normalised with CIFAR-100's own mean/std, not with CIFAR-10's as the published code does";
  return null;
}

export function checkExpertMatches(info: ExpertInfo, expected: ExpectedExpert, file: string): void {
  const problems: string[] = [];
  if (info.dataset !== expected.dataset) problems.push(`it was trained on ${info.dataset}, not ${expected.dataset}`);
  const a = describeNet(info.convnet);
  const b = describeNet(expected.convnet);
  if (a !== b) problems.push(`its network is ${a}, not ${b}`);
  if (expected.zca !== undefined && info.zca !== expected.zca) problems.push(`it was trained ${info.zca ? 'with' : 'without'} ZCA whitening`);
  else if (expected.preprocessing !== undefined) {
    if (info.preprocessing === undefined) {
      const legacy = legacyProblem(info);
      if (legacy !== null) {
        throw new SafetensorsError(`${file}: ${legacy}; retrain the experts (into a fresh buffer.bufferPath, or delete ${path.dirname(file)} first)`);
      }
    } else if (!samePreprocessing(info.preprocessing, expected.preprocessing)) {
      problems.push(`its inputs were preprocessed by ${describePreprocessing(info.preprocessing)}, not ${describePreprocessing(expected.preprocessing)}`);
    }
  }
  if (problems.length > 0) throw new SafetensorsError(`${file}: this expert does not fit the run: ${problems.join('; ')}`);
}
