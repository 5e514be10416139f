import { checkSyntheticSetFits } from '../../src/synthetic/size';

describe('the size of a synthetic set is checked before it is allocated', () => {
  test('a set that fits passes', () => {
    expect(() => checkSyntheticSetFits(50, 10, [500, 3, 32, 32], 16 * 2 ** 30)).not.toThrow();
  });
  test('more values than one tensor can hold is refused naming ipc', () => {
    expect(() => checkSyntheticSetFits(1e9, 10, [1e10, 1, 28, 28], 2 ** 50)).toThrow(
      /^ipc 1000000000 makes a synthetic set of 1000000000 x 10 classes = 10000000000 images of 1x28x28, .* GiB of float32 pixels: more than one tensor can hold here/,
    );
  });
  test("a set larger than the machine's memory is refused naming ipc and the sizes", () => {
    // 1000 x 100 x 3x32x32 float32 = 1.1 GiB, held 4 times > 4 GiB
    expect(() => checkSyntheticSetFits(1000, 100, [100000, 3, 32, 32], 4 * 2 ** 30)).toThrow(
      "ipc 1000 makes a synthetic set of 1000 x 100 classes = 100000 images of 3x32x32, 1.1 GiB of float32 pixels, held 4 times during a run: more than this machine's 4.0 GiB of memory; lower ipc",
    );
  });
});
