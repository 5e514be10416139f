/** Small deterministic helpers shared by the tests. */

/** A seeded uniform generator in [0, 1) (mulberry32), so test data is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
