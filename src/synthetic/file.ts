/**
 * Synthetic set files (safetensors): "images" F32 [N, C, H, W], "labels" I64 [N] (the class of
 * each image), optionally "soft_labels" F32 [N, numClasses] (teacher labels, which training then
 * uses), "lr" F32 [] (the learned student learning rate), and metadata "format" and
 * "trajmatch_synthetic" (JSON: dataset, ipc, image shape, class names, the preprocessing of the
 * data the images live with, how they were made).
 */
import { z } from 'zod';
import * as fs from 'fs';
import { metadataJson } from '../io/metadata';
import { classIndices, decodeSafetensors, requireTensor, SafetensorsContent, SafetensorsError, writeSafetensors } from '../io/safetensors';
import { ConvNetSpec, convNetSpecSchema } from '../model/convnet';
import { Equals, Expect } from '../config/schema-types';
import { describePreprocessing, Preprocessing, preprocessingSchema, samePreprocessing } from '../data/stats';
import { tensor } from '../backend/tensor';
import { Tensor } from '../native';

export const SYNTHETIC_FORMAT = 'trajmatch.synthetic/1';

/** What a synthetic set file records about its images (its trajmatch_synthetic metadata). */
export interface SyntheticInfo {
  dataset: string;
  ipc: number;
  classNames: string[];
  channels: number;
  height: number;
  width: number;
  /** The images are ZCA-whitened (as the real data they were distilled from). */
  zca: boolean;
  /** The preprocessing of the real data the images live with (absent in files of earlier versions). */
  preprocessing?: Preprocessing;
  /** How the set was made: a distillation method, or a random real subset. */
  method: 'mtt' | 'mct' | 'real';
  /** The network the set was distilled with, when it was. */
  convnet?: ConvNetSpec;
  /** The distillation iteration it comes from, when it was distilled. */
  iteration?: number;
}

/** @internal The schema of SyntheticInfo. */
export const syntheticInfoSchema = z.object({
  dataset: z.string(),
  ipc: z.number().int().positive(),
  classNames: z.array(z.string()),
  channels: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  zca: z.boolean(),
  preprocessing: preprocessingSchema.optional(),
  method: z.enum(['mtt', 'mct', 'real']),
  convnet: convNetSpecSchema.optional(),
  iteration: z.number().int().nonnegative().optional(),
});

// Fails to compile when the interface above and the schema differ (see config/schema-types.ts).
type _SameAsSchema = Expect<Equals<SyntheticInfo, z.output<typeof syntheticInfoSchema>>>;

export interface SyntheticSetData {
  /** N x C x H x W */
  images: Float32Array;
  labels: Int32Array;
  /** N x numClasses class probabilities to train on instead of the labels (teacher labels). */
  softLabels?: Float32Array;
  lr: number;
  info: SyntheticInfo;
}

export function writeSyntheticSet(file: string, set: SyntheticSetData): Promise<void> {
  const { channels: c, height: h, width: w } = set.info;
  const n = set.labels.length;
  return writeSafetensors(
    file,
    {
      images: { values: set.images, shape: [n, c, h, w] },
      labels: { values: BigInt64Array.from(set.labels, BigInt), shape: [n] },
      ...(set.softLabels ? { soft_labels: { values: set.softLabels, shape: [n, set.info.classNames.length] } } : {}),
      lr: { values: Float32Array.of(set.lr), shape: [] },
    },
    { format: SYNTHETIC_FORMAT, trajmatch_synthetic: JSON.stringify(set.info) },
  );
}

/** Reads and checks a synthetic set file (asynchronous, as writeSyntheticSet). */
export async function readSyntheticSet(file: string): Promise<SyntheticSetData> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SafetensorsError(`${file}: ${code === 'ENOENT' ? 'file not found' : (e as Error).message}`);
  }
  return syntheticSetOf(decodeSafetensors(bytes, file), file);
}

function syntheticSetOf(content: SafetensorsContent, file: string): SyntheticSetData {
  if (content.metadata.format !== SYNTHETIC_FORMAT) {
    throw new SafetensorsError(`${file}: not a trajmatch synthetic set (format ${JSON.stringify(content.metadata.format)}, expected ${SYNTHETIC_FORMAT})`);
  }
  const info = metadataJson(content.metadata, 'trajmatch_synthetic', syntheticInfoSchema, file, 'not a valid trajmatch synthetic set');
  const images = requireTensor(content, 'images', file, 'F32', 4);
  const labels = requireTensor(content, 'labels', file, 'I64', 1);
  const lrEntry = content.tensors.get('lr');
  if (!lrEntry) throw new SafetensorsError(`${file}: tensor lr is missing`);
  const lr = requireTensor(content, 'lr', file, 'F32', lrEntry.shape.length).values[0] as number;
  const [n, c, h, w] = images.shape;
  if (c !== info.channels || h !== info.height || w !== info.width) {
    throw new SafetensorsError(`${file}: images are ${c}x${h}x${w} but the metadata says ${info.channels}x${info.height}x${info.width}`);
  }
  if (labels.shape[0] !== n) throw new SafetensorsError(`${file}: ${labels.shape[0]} labels for ${n} images`);
  const labelValues = classIndices(labels.values as BigInt64Array, info.classNames.length, 'labels', file);
  if (!Number.isFinite(lr) || lr <= 0) throw new SafetensorsError(`${file}: the learned lr is ${lr}, expected a positive number`);
  const pixels = images.values as Float32Array;
  const nonFinite = pixels.findIndex((v) => !Number.isFinite(v));
  if (nonFinite >= 0) throw new SafetensorsError(`${file}: image ${Math.floor(nonFinite / (c * h * w))} holds a non-finite value`);
  let softLabels: Float32Array | undefined;
  if (content.tensors.has('soft_labels')) {
    const soft = requireTensor(content, 'soft_labels', file, 'F32', 2);
    const classes = info.classNames.length;
    if (soft.shape[0] !== n || soft.shape[1] !== classes) {
      throw new SafetensorsError(`${file}: soft_labels has shape [${soft.shape.join(', ')}], expected [${n}, ${classes}]`);
    }
    softLabels = soft.values as Float32Array;
    for (let i = 0; i < n; i++) {
      const row = softLabels.subarray(i * classes, (i + 1) * classes);
      const sum = row.reduce((a, b) => a + b, 0);
      if (row.some((v) => !(v >= 0)) || Math.abs(sum - 1) > 1e-3) {
        throw new SafetensorsError(`${file}: soft_labels of image ${i} are not class probabilities (non-negative, summing to 1; the sum is ${sum})`);
      }
    }
  }
  return { images: pixels, labels: labelValues, softLabels, lr, info };
}

/** A synthetic set's images and the labels to train on as tensors on a device: int64 classes, or its soft labels. */
export function syntheticSetTensors(set: SyntheticSetData, device: string): { images: Tensor; labels: Tensor } {
  const n = set.labels.length;
  return {
    images: tensor(set.images, [n, set.info.channels, set.info.height, set.info.width], { device }),
    labels: set.softLabels ? tensor(set.softLabels, [n, set.info.classNames.length], { device }) : tensor(set.labels, [n], { dtype: 'int64', device }),
  };
}

/**
 * Why a set's images do not live in the same space as data preprocessed by `p`, or null. Sets
 * without a record are from before ZCA followed the published rule: their ZCA images are refused.
 */
export function preprocessingProblem(info: SyntheticInfo, p: Preprocessing): string | null {
  if (!info.preprocessing) {
    return info.zca ? 'distilled before ZCA followed the published rule (ZCA of the raw [0, 1] pixels); distil it again' : null;
  }
  if (samePreprocessing(info.preprocessing, p)) return null;
  return `its images were made for ${describePreprocessing(info.preprocessing)}, but the evaluation data has ${describePreprocessing(p)}`;
}
