/** Small deterministic helpers shared by the tests. */
import * as v8 from 'v8';
import * as vm from 'vm';
import { liveTensorCount } from '../src/backend/tensor';
import { liveNetworkCount } from '../src/engine';
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

/** Live engine handles: tensors and networks created and not yet disposed (or collected). */
export function liveHandles(): { tensors: number; networks: number } {
  return { tensors: liveTensorCount(), networks: liveNetworkCount() };
}

/**
 * The leak check of tests that run the engine (tfjs-node's habit): the handles alive after each
 * test must be those alive before it, i.e. a test disposes what it makes. Garbage of earlier
 * tests is collected first, so that its collection during the test cannot hide a leak or fake one.
 */
export function checkNoLeakedHandles(): void {
  let before: { tensors: number; networks: number };
  beforeEach(async () => {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve)); // finalizers that Node defers
    collectGarbage();
    before = liveHandles();
  });
  afterEach(() => {
    expect(liveHandles()).toEqual(before);
  });
}

let gc: (() => void) | undefined;
function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
