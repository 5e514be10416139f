import { ExpertInfo } from '../../src/trajectory/expert-info';
import { MctRecorder, MctTrajectory } from '../../src/trajectory/mct';
import { MttRecorder, MttTrajectory } from '../../src/trajectory/mtt';
import { Segment } from '../../src/trajectory/segments';
import { waypointEpochs } from '../../src/trajectory/waypoints';
import { seededRandom } from '../helpers';

describe('waypoints', () => {
  test('K evenly spaced checkpoints, the last forced to T', () => {
    expect(waypointEpochs(50, 4)).toEqual([0, 17, 34, 50]);
    expect(waypointEpochs(50, 2)).toEqual([0, 50]);
    expect(waypointEpochs(10, 3)).toEqual([0, 5, 10]);
    expect(waypointEpochs(3, 4)).toEqual([0, 1, 2, 3]);
  });

  test('impossible counts are refused', () => {
    expect(() => waypointEpochs(50, 1)).toThrow('Expected an integer of at least 2 for waypoints but received 1');
    expect(() => waypointEpochs(3, 5)).toThrow('waypoints: 5 waypoints need at least 4 epochs, the trajectory has 3');
  });
});

// A random-walk "expert": 3 tensors, one of which never moves.
const T = 12;
const segments: Segment[] = [{ offset: 0, numel: 5 }, { offset: 5, numel: 3 }, { offset: 8, numel: 2 }];
const P = 10;
const rand = seededRandom(77);
const checkpoints: Float32Array[] = [Float32Array.from({ length: P }, () => rand())];
for (let t = 1; t <= T; t++) {
  const prev = checkpoints[t - 1];
  checkpoints.push(Float32Array.from(prev, (v, i) => (i >= 8 ? v : v + (rand() - 0.3) * 0.5 * (1 + (t % 3)))));
}
const info = {} as ExpertInfo;

function build(K: number) {
  const recorder = new MctRecorder(T, P, segments, K);
  checkpoints.forEach((c, t) => recorder.add(t, c));
  return new MctTrajectory('x.mct', info, T, P, segments, recorder.finish());
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
};
const mean2 = (a: Float32Array, b: Float32Array) => Float32Array.from(a, (v, i) => (v + b[i]) / 2);

describe('MCT convexified trajectories', () => {
  const mct = build(4);
  const w = mct.data.waypointEpochs;

  test('start at theta_0 and end at the smoothed last checkpoint', () => {
    expect(w).toEqual([0, 4, 8, 12]);
    close(mct.paramsAt(0), checkpoints[0], 0);
    close(mct.paramsAt(T), mean2(checkpoints[T - 1], checkpoints[T]));
  });

  test('fractions are 0 at the start and 1 at the end of each segment, and never decrease', () => {
    const L = segments.length;
    for (let j = 0; j + 1 < w.length; j++) {
      for (let l = 0; l < L; l++) {
        expect(mct.data.fractions[w[j] * L + l]).toBe(0);
        for (let i = w[j] + 1; i < w[j + 1]; i++) {
          expect(mct.data.fractions[i * L + l]).toBeGreaterThanOrEqual(mct.data.fractions[(i - 1) * L + l]);
          expect(mct.data.fractions[i * L + l]).toBeLessThanOrEqual(1);
        }
      }
    }
    for (let l = 0; l < L; l++) expect(mct.data.fractions[T * L + l]).toBe(1);
  });

  test('interior waypoints are the mean of their neighbouring checkpoints (the published smoothing)', () => {
    for (let j = 1; j < w.length - 1; j++) {
      close(mct.waypoint(j), mean2(checkpoints[w[j] - 1], checkpoints[w[j] + 1]));
      close(mct.paramsAt(w[j]), mct.waypoint(j));
    }
  });

  test('each tensor moves on the straight line between waypoints, paced by its path length', () => {
    // segment 0, checkpoint 2: fraction = (d0 + d1) / (d0 + d1 + d2 + d3) for tensor 0
    const d = (a: number, l: number) => {
      const s = segments[l];
      let sum = 0;
      for (let i = s.offset; i < s.offset + s.numel; i++) sum += (checkpoints[a + 1][i] - checkpoints[a][i]) ** 2;
      return Math.sqrt(sum);
    };
    const f = (d(0, 0) + d(1, 0)) / (d(0, 0) + d(1, 0) + d(2, 0) + d(3, 0));
    const at2 = mct.paramsAt(2);
    const w1 = mct.waypoint(1);
    for (let i = 0; i < 5; i++) expect(at2[i]).toBeCloseTo(checkpoints[0][i] + f * (w1[i] - checkpoints[0][i]), 5);
    // the tensor that never moved stays put: fraction 0, no division by zero
    close(at2.subarray(8), checkpoints[0].subarray(8), 0);
  });

  test('real-valued epoch points lie between their neighbours (continuous sampling)', () => {
    for (const t of [0.5, 2.25, 4.0001, 7.9, 11.5]) {
      const at = mct.paramsAt(t);
      const lo = mct.paramsAt(Math.floor(t));
      const hi = mct.paramsAt(Math.ceil(t));
      for (let i = 0; i < P; i++) {
        expect(at[i]).toBeGreaterThanOrEqual(Math.min(lo[i], hi[i]) - 1e-6);
        expect(at[i]).toBeLessThanOrEqual(Math.max(lo[i], hi[i]) + 1e-6);
      }
    }
    expect(() => mct.paramsAt(12.5)).toThrow('x.mct: epoch points run from 0 to 12, received 12.5');
  });

  test('K = 2 is one straight segment from theta_0 to the smoothed end', () => {
    const two = build(2);
    expect(two.data.waypointEpochs).toEqual([0, T]);
    close(two.paramsAt(T), mean2(checkpoints[T - 1], checkpoints[T]));
  });

  test('a non-finite checkpoint is refused', () => {
    const r = new MctRecorder(T, P, segments, 4);
    r.add(0, checkpoints[0]);
    const bad = Float32Array.from(checkpoints[1]);
    bad[3] = NaN;
    expect(() => r.add(1, bad)).toThrow('the checkpoint of epoch 1 holds a non-finite value (NaN) at parameter 3: the expert diverged');
  });
});

describe('MTT trajectories', () => {
  test('give every checkpoint at integer epochs, and nothing between', () => {
    const r = new MttRecorder(T, P);
    checkpoints.forEach((c, t) => r.add(t, c));
    expect(r.complete).toBe(true);
    const mtt = new MttTrajectory('x.mtt', info, T, P, r.checkpoints);
    close(mtt.paramsAt(5), checkpoints[5], 0);
    expect(() => mtt.paramsAt(2.5)).toThrow('x.mtt: MTT trajectories have checkpoints at the integer epochs 0..12, received 2.5');
  });
});
