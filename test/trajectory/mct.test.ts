import { ExpertInfo } from '../../src/trajectory/expert-info';
import { MctRecorder, MctTrajectory } from '../../src/trajectory/mct';
import { MttRecorder, MttTrajectory } from '../../src/trajectory/mtt';
import { Segment } from '../../src/trajectory/segments';
import { checkWaypointEpochs, smoothingOf, waypointEpochs } from '../../src/trajectory/waypoints';
import { seededRandom } from '../helpers';

describe('waypoints', () => {
  test('K evenly spaced checkpoints, the last forced to T', () => {
    expect(waypointEpochs(50, 4)).toEqual([0, 17, 34, 50]);
    expect(waypointEpochs(50, 2)).toEqual([0, 50]);
    expect(waypointEpochs(10, 3)).toEqual([0, 5, 10]);
    expect(waypointEpochs(3, 4)).toEqual([0, 1, 2, 3]);
  });

  test('a K whose spacing misses T gets T appended, as trajectory_compression.py: more than K waypoints', () => {
    // range(0, 51, 51 // 4 = 12) = 0..48, then 50
    expect(waypointEpochs(50, 5)).toEqual([0, 12, 24, 36, 48, 50]);
    expect(waypointEpochs(10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(waypointEpochs(6, 5)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  test('impossible counts are refused', () => {
    expect(() => waypointEpochs(50, 1)).toThrow('Expected an integer of at least 2 for waypoints but received 1');
    expect(() => waypointEpochs(3, 5)).toThrow('waypoints: 5 waypoints need at least 4 epochs, the trajectory has 3');
  });

  test('explicit epochs must rise from 0 to T', () => {
    expect(checkWaypointEpochs(50, [0, 6, 25, 50])).toEqual([0, 6, 25, 50]);
    expect(() => checkWaypointEpochs(50, [0, 6, 25])).toThrow(/the last must be 50, the epochs of the experts; received \[0, 6, 25\]/);
    expect(() => checkWaypointEpochs(50, [1, 6, 50])).toThrow(/the first must be 0/);
    expect(() => checkWaypointEpochs(50, [0, 25, 6, 50])).toThrow(/each larger than the one before/);
    expect(() => checkWaypointEpochs(50, [0, 2.5, 50])).toThrow(/integers only/);
  });

  test('the smoothing follows the published in-place order: a smoothed checkpoint feeds a later one', () => {
    // convexify.py, waypoints 0, 1, 2, 4 (T = 4): theta'_1 = theta_1/2 + theta_0/4 + theta_2/4;
    // theta'_2 = theta_2/2 + theta'_1/4 + theta_3/4; theta'_4 = theta_4/2 + theta'_2/4 + theta_3/4
    const c = smoothingOf({ scheme: 'convexify', epochs: [0, 1, 2, 4] }, 4).smoothed;
    expect(Object.fromEntries(c.get(1)!)).toEqual({ 0: 0.25, 1: 0.5, 2: 0.25 });
    expect(Object.fromEntries(c.get(2)!)).toEqual({ 0: 0.0625, 1: 0.125, 2: 0.5625, 3: 0.25 });
    expect(Object.fromEntries(c.get(4)!)).toEqual({ 0: 0.015625, 1: 0.03125, 2: 0.140625, 3: 0.3125, 4: 0.5 });
    // trajectory_compression.py, K = 4 over T = 3 (waypoints 0, 1, 2, 3): theta'_1 = (theta_0 + theta_2) / 2,
    // theta'_2 = (theta'_1 + theta_3) / 2, theta'_3 = (theta'_2 + theta_3) / 2
    const u = smoothingOf(4, 3).smoothed;
    expect(Object.fromEntries(u.get(2)!)).toEqual({ 0: 0.25, 2: 0.25, 3: 0.5 });
    expect(Object.fromEntries(u.get(3)!)).toEqual({ 0: 0.125, 2: 0.125, 3: 0.75 });
    // K = 2 smooths nothing
    expect(smoothingOf(2, 3).smoothed.size).toBe(0);
  });
});

describe('the two published waypoint schemes on a small trajectory, by hand', () => {
  // T = 4; tensor A (2 values) zig-zags, tensor B (1 value) moves unevenly
  const A = [
    [0, 0],
    [1, 1],
    [2, 0],
    [3, 1],
    [4, 0],
  ];
  const B = [0, 1, 3, 4, 8];
  const segs: Segment[] = [
    { offset: 0, numel: 2 },
    { offset: 2, numel: 1 },
  ];
  const run = (plan: Parameters<typeof smoothingOf>[0]) => {
    const r = new MctRecorder(4, 3, segs, plan);
    A.forEach((a, t) => r.add(t, Float32Array.of(a[0], a[1], B[t])));
    return new MctTrajectory('hand.mct', info, 4, 3, segs, r.finish());
  };
  const near = (a: ArrayLike<number>, b: number[]) => close(a, b, 1e-5);

  test("convexify.py's scheme (waypoints 0, 2, 4): smoothed waypoints, fractions after smoothing", () => {
    const m = run({ scheme: 'convexify', epochs: [0, 2, 4] });
    expect(m.data.waypointEpochs).toEqual([0, 2, 4]);
    // theta'_2 = theta_2/2 + theta_1/4 + theta_3/4 = A (2, 0.5), B 1.5 + 0.25 + 1 = 2.75
    near(m.waypoint(1), [2, 0.5, 2.75]);
    // theta'_4 = theta_4/2 + theta'_2/4 + theta_3/4 = A (2 + 0.5 + 0.75, 0 + 0.125 + 0.25), B 4 + 0.6875 + 1
    near(m.waypoint(2), [3.25, 0.375, 5.6875]);
    near(m.paramsAt(0), [0, 0, 0]);
    // the path lengths use the smoothed points: A: |(1,1)-(0,0)| = sqrt 2, |(2,0.5)-(1,1)| = sqrt 1.25,
    // so c_A(1) = sqrt2 / (sqrt2 + sqrt1.25); B: 1 / (1 + 1.75)
    const cA1 = Math.SQRT2 / (Math.SQRT2 + Math.sqrt(1.25));
    const cB1 = 1 / 2.75;
    near(m.paramsAt(1), [cA1 * 2, cA1 * 0.5, cB1 * 2.75]);
    // segment 2 -> 4: A |(3,1)-(2,0.5)| = sqrt 1.25, |(3.25,0.375)-(3,1)| = sqrt 0.453125; B 1.25, 1.6875
    const cA3 = Math.sqrt(1.25) / (Math.sqrt(1.25) + Math.sqrt(0.453125));
    const cB3 = 1.25 / (1.25 + 1.6875);
    near(m.paramsAt(3), [2 + cA3 * 1.25, 0.5 + cA3 * -0.125, 2.75 + cB3 * (5.6875 - 2.75)]);
    near(m.paramsAt(4), [3.25, 0.375, 5.6875]);
    // a real epoch point lerps the fractions of its checkpoints
    const cA = cA1 + 0.5 * (1 - cA1);
    near(m.paramsAt(1.5), [cA * 2, cA * 0.5, (cB1 + 0.5 * (1 - cB1)) * 2.75]);
  });

  test("trajectory_compression.py's scheme (K = 3, waypoints 0, 2, 4): fractions before smoothing", () => {
    const m = run(3);
    expect(m.data.waypointEpochs).toEqual([0, 2, 4]);
    // interior: mean of the neighbours (theta_1 + theta_3) / 2; last: (theta_3 + theta_4) / 2
    near(m.waypoint(1), [2, 1, 2.5]);
    near(m.waypoint(2), [3.5, 0.5, 6]);
    // raw path lengths: A steps are all sqrt 2, so c_A(1) = 1/2; B: 1 / (1 + 2)
    near(m.paramsAt(1), [0.5 * 2, 0.5 * 1, (1 / 3) * 2.5]);
    // segment 2 -> 4: c_A(3) = 1/2, c_B(3) = 1 / (1 + 4)
    near(m.paramsAt(3), [2 + 0.5 * 1.5, 1 + 0.5 * -0.5, 2.5 + 0.2 * 3.5]);
  });

  test('K = 2 stores theta_0 and theta_T unsmoothed', () => {
    const m = run(2);
    near(m.waypoint(1), [4, 0, 8]);
    // c_B(2) = (1 + 2) / (1 + 2 + 1 + 4)
    near(m.paramsAt(2), [0.5 * 4, 0, (3 / 8) * 8]);
  });
});

// A random-walk "expert": 3 tensors, one of which never moves.
const T = 12;
const segments: Segment[] = [
  { offset: 0, numel: 5 },
  { offset: 5, numel: 3 },
  { offset: 8, numel: 2 },
];
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

  test('K = 2 is one straight segment from theta_0 to theta_T, neither smoothed (as published)', () => {
    const two = build(2);
    expect(two.data.waypointEpochs).toEqual([0, T]);
    close(two.paramsAt(T), checkpoints[T], 0);
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
