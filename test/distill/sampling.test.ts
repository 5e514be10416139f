import { expertFor, stretchFor } from '../../src/distill/sampling';

describe('expert and start-point sampling', () => {
  test('each round visits every expert once, in a shuffled order that changes between rounds', () => {
    const rounds = [0, 1, 2].map((r) => Array.from({ length: 5 }, (_, i) => expertFor(r * 5 + i, 5, 7)));
    for (const round of rounds) expect([...round].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(rounds.map((r) => r.join(','))).size).toBeGreaterThan(1);
    expect(expertFor(3, 5, 7)).toBe(rounds[0][3]); // a pure function of (iteration, seed): resumable
  });

  test('MTT draws integer starts below maxStartEpoch; the target is start + M', () => {
    const draws = Array.from({ length: 200 }, (_, i) => stretchFor(i, 'mtt', 20, 2, 50, 1));
    expect(draws.every((d) => Number.isInteger(d.start) && d.start >= 0 && d.start < 20 && d.target === d.start + 2)).toBe(true);
    expect(new Set(draws.map((d) => d.start)).size).toBe(20);
  });

  test('MCT draws real-valued starts (continuous sampling), targets capped at T', () => {
    const draws = Array.from({ length: 200 }, (_, i) => stretchFor(i, 'mct', 8, 2.5, 10, 1));
    expect(draws.every((d) => d.start >= 0 && d.start < 8)).toBe(true);
    expect(draws.filter((d) => !Number.isInteger(d.start)).length).toBe(200);
    expect(draws.every((d) => d.target === Math.min(d.start + 2.5, 10))).toBe(true);
    expect(draws.some((d) => d.target === 10)).toBe(true);
  });
});
