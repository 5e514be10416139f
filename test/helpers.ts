/** Small deterministic helpers shared by the tests. */
import { seededRandom } from '../src/util/random';

export { seededRandom };

/** n values uniform in [-scale, scale). */
export function randomValues(n: number, seed: number, scale = 1): Float64Array {
  const rand = seededRandom(seed);
  return Float64Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The values of a tensor handle as plain numbers (int64 read back as BigInt64Array is converted). */
export function numbers(t: { toArray(): ArrayLike<number | bigint> }): number[] {
  return Array.from(t.toArray(), Number);
}
