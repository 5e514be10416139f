/** Per-channel normalisation statistics: the published ones, or computed from the training pixels. */
import { RawSplit } from './raw';

export interface ChannelStats {
  mean: number[];
  std: number[];
}

/** The mean / std the published distillation code normalises each dataset with. */
export const PUBLISHED_STATS: Record<string, ChannelStats> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.2861], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
  cifar100: { mean: [0.5071, 0.4866, 0.4409], std: [0.2673, 0.2564, 0.2762] },
  'tiny-imagenet': { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
};

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
