/**
 * Synthetic set files (safetensors): "images" F32 [N, C, H, W], "labels" I64 [N], "lr" F32 []
 * (the learned student learning rate), and metadata "format" and "trajmatch_synthetic" (JSON:
 * dataset, ipc, image shape, class names, whether the images live in ZCA space, how they were made).
 */
import { z } from 'zod';
import { readSafetensors, requireTensor, SafetensorsError, writeSafetensors } from '../io/safetensors';
import { convNetSpecSchema } from '../model/convnet';
import { tensor } from '../backend/tensor';
import { Tensor } from '../native';

export const SYNTHETIC_FORMAT = 'trajmatch.synthetic/1';

export const syntheticInfoSchema = z.object({
  dataset: z.string(),
  ipc: z.number().int().positive(),
  classNames: z.array(z.string()),
  channels: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  /** The images are ZCA-whitened (as the real data they were distilled from). */
  zca: z.boolean(),
  /** How the set was made: a distillation method, or a random real subset. */
  method: z.enum(['mtt', 'mct', 'real']),
  /** The network the set was distilled with, when it was. */
  convnet: convNetSpecSchema.optional(),
  /** The distillation iteration it comes from, when it was distilled. */
  iteration: z.number().int().nonnegative().optional(),
});

export type SyntheticInfo = z.output<typeof syntheticInfoSchema>;

export interface SyntheticSetData {
  /** N x C x H x W */
  images: Float32Array;
  labels: Int32Array;
  lr: number;
  info: SyntheticInfo;
}

export function writeSyntheticSet(file: string, set: SyntheticSetData): Promise<void> {
  const { channels: c, height: h, width: w } = set.info;
  const n = set.labels.length;
  return writeSafetensors(file, {
    images: { values: set.images, shape: [n, c, h, w] },
    labels: { values: BigInt64Array.from(set.labels, BigInt), shape: [n] },
    lr: { values: Float32Array.of(set.lr), shape: [] },
  }, { format: SYNTHETIC_FORMAT, trajmatch_synthetic: JSON.stringify(set.info) });
}

export function readSyntheticSet(file: string): SyntheticSetData {
  const content = readSafetensors(file);
  if (content.metadata.format !== SYNTHETIC_FORMAT) {
    throw new SafetensorsError(`${file}: not a trajmatch synthetic set (format ${JSON.stringify(content.metadata.format)}, expected ${SYNTHETIC_FORMAT})`);
  }
  let raw: unknown = null;
  try {
    raw = JSON.parse(content.metadata.trajmatch_synthetic ?? 'null');
  } catch {
    // reported below
  }
  const parsed = syntheticInfoSchema.safeParse(raw);
  if (!parsed.success) throw new SafetensorsError(`${file}: its trajmatch_synthetic metadata is missing or malformed`);
  const info = parsed.data;
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
  const labelValues = Int32Array.from(labels.values as BigInt64Array, Number);
  const bad = labelValues.findIndex((l) => l < 0 || l >= info.classNames.length);
  if (bad >= 0) throw new SafetensorsError(`${file}: label ${labelValues[bad]} of image ${bad} is out of range for ${info.classNames.length} classes`);
  if (!Number.isFinite(lr) || lr <= 0) throw new SafetensorsError(`${file}: the learned lr is ${lr}, expected a positive number`);
  const pixels = images.values as Float32Array;
  const nonFinite = pixels.findIndex((v) => !Number.isFinite(v));
  if (nonFinite >= 0) throw new SafetensorsError(`${file}: image ${Math.floor(nonFinite / (c * h * w))} holds a non-finite value`);
  return { images: pixels, labels: labelValues, lr, info };
}

/** A synthetic set's images and labels as tensors on a device (int64 labels), to train on. */
export function syntheticSetTensors(set: SyntheticSetData, device: string): { images: Tensor; labels: Tensor } {
  const n = set.labels.length;
  return {
    images: tensor(set.images, [n, set.info.channels, set.info.height, set.info.width], { device }),
    labels: tensor(set.labels, [n], { dtype: 'int64', device }),
  };
}
