/** What an expert file records about how its trajectory was made, and the checks against it. */
import { z } from 'zod';
import { convNetSpecSchema, ConvNetSpec } from '../model/convnet';
import { SafetensorsError } from '../io/safetensors';

export const expertInfoSchema = z.object({
  dataset: z.string(),
  convnet: convNetSpecSchema,
  zca: z.boolean(),
  /** T: epochs of expert training (the trajectory has T + 1 checkpoints). */
  epochs: z.number().int().positive(),
  lrTeacher: z.number(),
  momentum: z.number(),
  weightDecay: z.number(),
  batchSize: z.number().int().positive(),
  /** The DSA strategy of every batch, or null without augmentation. */
  dsa: z.string().nullable(),
  seed: z.number().int(),
  /** Index of the expert in its buffer. */
  expert: z.number().int().nonnegative(),
  /** Train accuracy of each epoch, as the epoch went. */
  trainAccuracy: z.array(z.number()),
  /** Test accuracy after the last epoch. */
  testAccuracy: z.number().nullable(),
});

export type ExpertInfo = z.output<typeof expertInfoSchema>;

/** Reads the info of an expert file's metadata; a SafetensorsError naming the file if it is missing or malformed. */
export function parseExpertInfo(metadata: Record<string, string>, file: string): ExpertInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.trajmatch_expert ?? 'null');
  } catch {
    raw = null;
  }
  const parsed = expertInfoSchema.safeParse(raw);
  if (!parsed.success) throw new SafetensorsError(`${file}: not a trajmatch expert file (its metadata has no valid trajmatch_expert entry)`);
  return parsed.data;
}

const describeNet = (s: ConvNetSpec) =>
  `ConvNet depth ${s.depth} width ${s.netWidth} ${s.norm} ${s.activation} ${s.pooling} on ${s.channels}x${s.height}x${s.width}, ${s.numClasses} classes`;

/** The settings a run needs from an expert; an error naming the file says what differs. */
export interface ExpectedExpert {
  dataset: string;
  convnet: ConvNetSpec;
  zca?: boolean;
}

export function checkExpertMatches(info: ExpertInfo, expected: ExpectedExpert, file: string): void {
  const problems: string[] = [];
  if (info.dataset !== expected.dataset) problems.push(`it was trained on ${info.dataset}, not ${expected.dataset}`);
  const a = describeNet(info.convnet);
  const b = describeNet(expected.convnet);
  if (a !== b) problems.push(`its network is ${a}, not ${b}`);
  if (expected.zca !== undefined && info.zca !== expected.zca) problems.push(`it was trained ${info.zca ? 'with' : 'without'} ZCA whitening`);
  if (problems.length > 0) throw new SafetensorsError(`${file}: this expert does not fit the run: ${problems.join('; ')}`);
}
