/** Per-channel normalisation statistics: the published ones, or computed from the training pixels. */
import { z } from 'zod';
import { Equals, Expect } from '../config/schema-types';
import { RawSplit } from './raw';

export interface ChannelStats {
  mean: number[];
  std: number[];
}

const CIFAR10_STATS: ChannelStats = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };

/**
 * The mean / std the published distillation code normalises each dataset with (without ZCA).
 * CIFAR-100 gets CIFAR-10's values: MTT's and MCT's utils.py get_dataset reuse them for CIFAR-100,
 * so their published CIFAR-100 experts saw those inputs (CIFAR-100's own statistics would be
 * mean 0.5071/0.4866/0.4409, std 0.2673/0.2564/0.2762). MNIST and Fashion-MNIST are not in their
 * code: theirs are the values of the DC/DSA code the published code was adapted from.
 */
export const PUBLISHED_STATS: Record<string, ChannelStats> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.2861], std: [0.353] },
  cifar10: CIFAR10_STATS,
  cifar100: CIFAR10_STATS,
  'tiny-imagenet': { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
};

/** Mean 0 and std 1 per channel: no normalisation (the pixels stay in [0, 1]). */
export function identityStats(channels: number): ChannelStats {
  return { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) };
}

/**
 * What the networks see, part of the identity of every expert and synthetic set: either
 * (pixel / 255 - mean) / std per channel, or (with ZCA, as published) the raw [0, 1] pixels
 * whitened by a transform fitted on them with the given eps. Never both.
 */
export interface Preprocessing {
  normalize: ChannelStats | null;
  zca: { eps: number } | null;
}

/** @internal The schema of Preprocessing. */
export const preprocessingSchema = z.object({
  normalize: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }).nullable(),
  zca: z.object({ eps: z.number() }).nullable(),
});

// Fails to compile when the interface above and the schema differ (see config/schema-types.ts).
type _SameAsSchema = [Expect<Equals<Preprocessing, z.input<typeof preprocessingSchema>>>, Expect<Equals<Preprocessing, z.output<typeof preprocessingSchema>>>];

export function preprocessingOf(normalize: ChannelStats | null, zcaEps: number | null): Preprocessing {
  return { normalize: normalize && { mean: [...normalize.mean], std: [...normalize.std] }, zca: zcaEps === null ? null : { eps: zcaEps } };
}

/** The preprocessing of a dataset with published statistics, without reading it (as the published code prepares it). */
export function publishedPreprocessing(dataset: string, zca: boolean, zcaEps = 0.1): Preprocessing {
  if (zca) return preprocessingOf(null, zcaEps);
  const stats = PUBLISHED_STATS[dataset];
  if (!stats) throw new Error(`no published statistics for dataset '${dataset}'`);
  return preprocessingOf(stats, null);
}

export function samePreprocessing(a: Preprocessing, b: Preprocessing): boolean {
  return JSON.stringify(preprocessingOf(a.normalize, a.zca?.eps ?? null)) === JSON.stringify(preprocessingOf(b.normalize, b.zca?.eps ?? null));
}

export function describePreprocessing(p: Preprocessing): string {
  if (p.zca) return `ZCA whitening of the raw [0, 1] pixels (eps ${p.zca.eps})`;
  const n = p.normalize!;
  return `normalisation with mean ${n.mean.map((v) => +v.toFixed(4)).join('/')} and std ${n.std.map((v) => +v.toFixed(4)).join('/')}`;
}

/** Mean and (population) std per channel of pixels / 255, for datasets without published statistics. */
export function computeStats(split: RawSplit, channels: number): ChannelStats {
  const n = split.labels.length;
  const plane = split.pixels.length / Math.max(n * channels, 1);
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const base = (i * channels + c) * plane;
      for (let p = 0; p < plane; p++) {
        const v = split.pixels[base + p] / 255;
        sum[c] += v;
        sumSq[c] += v * v;
      }
    }
  }
  const count = n * plane;
  const mean = Array.from(sum, (s) => s / count);
  // a constant channel would divide by zero: fall back to 1
  const std = Array.from(sumSq, (s, c) => Math.sqrt(Math.max(s / count - mean[c] ** 2, 0)) || 1);
  return { mean, std };
}
