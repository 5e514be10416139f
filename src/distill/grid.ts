/** A PNG picture of a synthetic set: one column per class (one row per class beyond 20 classes) (pngjs). */
import { PNG } from 'pngjs';
import { writeAtomic } from '../io/atomic';

export interface GridInput {
  /** N x C x H x W normalised pixels (ZCA already undone). */
  images: Float32Array;
  labels: Int32Array;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  /** Per-channel normalisation to undo: pixel = x * std + mean. */
  mean: number[];
  std: number[];
}

export function renderGrid(g: GridInput): Buffer {
  const perClass = Array.from({ length: g.numClasses }, () => [] as number[]);
  g.labels.forEach((l, i) => perClass[l].push(i));
  const perClassMax = Math.max(1, ...perClass.map((p) => p.length));
  const classPerColumn = g.numClasses <= 20;
  const cols = classPerColumn ? g.numClasses : perClassMax;
  const rows = classPerColumn ? perClassMax : g.numClasses;
  const scale = Math.max(1, Math.floor(64 / Math.max(g.height, g.width))); // small images drawn larger
  const cellH = g.height * scale + 2;
  const cellW = g.width * scale + 2;
  const png = new PNG({ width: cols * cellW, height: rows * cellH });
  png.data.fill(255);
  const plane = g.height * g.width;
  perClass.forEach((members, cls) => {
    members.forEach((img, k) => {
      const row = classPerColumn ? k : cls;
      const col = classPerColumn ? cls : k;
      for (let y = 0; y < g.height * scale; y++) {
        for (let x = 0; x < g.width * scale; x++) {
          const p = Math.floor(y / scale) * g.width + Math.floor(x / scale);
          const at = ((row * cellH + 1 + y) * png.width + col * cellW + 1 + x) * 4;
          for (let k = 0; k < 3; k++) {
            const c = g.channels === 1 ? 0 : k;
            const v = g.images[(img * g.channels + c) * plane + p] * g.std[c] + g.mean[c];
            png.data[at + k] = Math.round(255 * Math.min(1, Math.max(0, v)));
          }
          png.data[at + 3] = 255;
        }
      }
    });
  });
  return PNG.sync.write(png);
}

export function writeGrid(file: string, g: GridInput): Promise<void> {
  return writeAtomic(file, renderGrid(g));
}
