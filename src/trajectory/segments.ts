/** The parameter tensors of a flat vector (layer weights, biases, norm scales) as offset ranges. */
import { ParamLayout } from '../model/convnet';

export interface Segment {
  offset: number;
  numel: number;
}

export function segmentsOf(layout: ParamLayout): Segment[] {
  return layout.tensors.map((t) => ({ offset: t.offset, numel: t.numel }));
}

/** ||a - b||_2 of each segment. */
export function segmentDistances(a: Float32Array, b: Float32Array, segments: Segment[]): Float64Array {
  const out = new Float64Array(segments.length);
  segments.forEach((s, l) => {
    let sum = 0;
    for (let i = s.offset; i < s.offset + s.numel; i++) {
      const d = a[i] - b[i];
      sum += d * d;
    }
    out[l] = Math.sqrt(sum);
  });
  return out;
}

/** The index of the first non-finite value, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}
