import { expertFor, stretchFor } from '../../src/distill/sampling';
import { slotRange, slotsOf } from '../../src/distill/trajectory-batch';
import { mixSeed } from '../../src/util/random';

const settings = { method: 'mct' as const, maxStartEpoch: 4, expertEpochs: 2, seed: 7 };

describe('the slots of a trajectory batch', () => {
  test('W = 1 draws what the one-stretch run always drew (expert, stretch and native seed of iteration i)', () => {
    for (let i = 0; i < 30; i++) {
      const [slot] = slotsOf(i, 1, 5, 10, settings);
      expect(slot).toEqual({ draw: i, expert: expertFor(i, 5, 7), ...stretchFor(i, 'mct', 4, 2, 10, 7), seed: mixSeed(7, 3, i) });
    }
  });

  test('slot s of iteration i is draw i * W + s: pure, and distinct experts within a round', () => {
    const W = 4;
    const all = Array.from({ length: 10 }, (_, i) => slotsOf(i, W, 8, 10, settings)).flat();
    expect(all.map((s) => s.draw)).toEqual(Array.from({ length: 40 }, (_, d) => d));
    expect(slotsOf(3, W, 8, 10, settings)).toEqual(slotsOf(3, W, 8, 10, settings));
    // each round of 8 draws visits all 8 experts once
    for (let round = 0; round < 5; round++) {
      expect(new Set(all.slice(round * 8, round * 8 + 8).map((s) => s.expert)).size).toBe(8);
    }
    expect(new Set(all.map((s) => s.seed)).size).toBe(40);
  });

  test('ranks split the slots into contiguous blocks, rank 0 holding slot 0', () => {
    expect([0, 1, 2, 3].map((r) => slotRange(8, 4, r))).toEqual([
      { from: 0, to: 2 },
      { from: 2, to: 4 },
      { from: 4, to: 6 },
      { from: 6, to: 8 },
    ]);
    expect(slotRange(2, 1, 0)).toEqual({ from: 0, to: 2 });
  });
});
