import { z } from 'zod';
import { checkOptionGroups, OptionsError, parseOptions } from '../../src/config/validate';
import { deviceForRank } from '../../src/distributed/env';
import { backendInfo } from '../../src/engine';
import { TrajmatchInputError } from '../../src/errors';

describe('option checks', () => {
  const a = z.strictObject({ lr: z.number().positive() });
  const b = z.strictObject({ depth: z.number().int().min(1) });

  test('every failing group is listed, each problem named by its key path', () => {
    let error: unknown;
    try {
      checkOptionGroups([
        () => parseOptions(a, { lr: -1 }, 'distill'),
        () => parseOptions(b, { depth: 1 }, 'network'),
        () => parseOptions(b, { depth: 0, extra: 1 }, 'buffer'),
        () => {
          throw new TrajmatchInputError('data.imageSize applies only to dataset imagefolder');
        },
      ] as const);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).problems).toEqual([
      expect.stringMatching(/^distill\.lr: .*\(received -1\)$/),
      expect.stringMatching(/^buffer\.depth: .*\(received 0\)$/),
      'unknown option(s) buffer.extra',
      'data.imageSize applies only to dataset imagefolder',
    ]);
    expect((error as Error).message).toMatch(/^Invalid options:\n {2}distill\.lr/);
  });

  test('the checks that pass give their values; errors that are not about options pass through', () => {
    expect(checkOptionGroups([() => parseOptions(a, { lr: 2 }, 'distill'), () => 3] as const)).toEqual([{ lr: 2 }, 3]);
    expect(() =>
      checkOptionGroups([
        () => {
          throw new RangeError('a bug');
        },
      ]),
    ).toThrow(RangeError);
  });

  test('library errors name the library option, not a command-line flag', () => {
    // no CUDA: refused as data.device says why; with CUDA: a rank beyond the GPUs is refused under data.device
    const call = () => (backendInfo().cudaAvailable ? deviceForRank('auto', 999) : deviceForRank('cuda', 0));
    expect(call).toThrow(/^data\.device: /);
    expect(call).not.toThrow(/--/);
  });
});
