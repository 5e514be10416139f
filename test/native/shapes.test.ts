import { applyDsa, convNetForward, convNetLayout, convNetSpec, disposeAll, matchIteration, Network, sgdStep, tensor, Tensor } from '../../src';

// Images of the wrong rank, channel count or size, labels of the wrong count and parameters of the
// wrong length are refused by every native entry that takes them, up front, with a message about
// the shape (expected vs received), never a message about something else (example counts, a
// dimension index, the matching loss).

const spec = convNetSpec({ channels: 1, height: 8, width: 8, numClasses: 2, netWidth: 4, depth: 1 });
const P = convNetLayout(spec).numParams;
const owned: Tensor[] = [];
const make = (shape: number[], dtype: 'float32' | 'int64' = 'float32', offset = 0) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const t =
    dtype === 'int64'
      ? tensor(
          BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2)),
          shape,
          { dtype },
        )
      : tensor(
          Float32Array.from({ length: n }, (_, i) => Math.sin(i + offset)),
          shape,
        );
  owned.push(t);
  return t;
};
afterAll(() => disposeAll(...owned));

const BAD_IMAGES: [string, number[], RegExp][] = [
  ['rank 3', [4, 8, 8], /\[N, C, H, W\]|\[S, C, H, W\]|\[N, 1, 8, 8\]/],
  ['3 channels', [4, 3, 8, 8], /\[[NS], 1, 8, 8\]/],
  ['16 x 16', [4, 1, 16, 16], /\[[NS], 1, 8, 8\]/],
];

describe.each(BAD_IMAGES)('images of %s', (_name, shape, expectedShape) => {
  const received = `received [${shape.join(', ')}]`;
  const check = async (call: () => Promise<unknown>) => {
    const err = (await call().then(
      () => null,
      (e: Error) => e,
    )) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(expectedShape);
    expect(err.message).toContain(received);
    expect(err.message).not.toMatch(/labels|examples|out of range|different points/);
  };

  test('Network#trainEpoch and #evaluate', async () => {
    const net = await Network.adopt(spec, make([P]));
    try {
      await check(() => net.trainEpoch({ images: make(shape), labels: make([4], 'int64'), lr: 0.01, seed: 0 }));
      await check(() => net.evaluate({ images: make(shape), labels: make([4], 'int64') }));
    } finally {
      net.dispose();
    }
  });

  test('convNetForward', async () => {
    await check(() => convNetForward(spec, make(shape), make([P])));
  });

  test('matchIteration', async () => {
    await check(() =>
      matchIteration(spec, { images: make(shape), labels: make([4], 'int64'), start: make([P]), target: make([P], 'float32', 1), lr: 0.01, synSteps: 2 }),
    );
  });
});

test('applyDsa: images that are not [N, C, H, W]', async () => {
  await expect(applyDsa(make([4, 8, 8]), { seed: 0 })).rejects.toThrow('DSA: images must have shape [N, C, H, W], received [4, 8, 8]');
  await expect(applyDsa(make([4, 1, 8, 8], 'int64'), { seed: 0 })).rejects.toThrow(/DSA: images must be floating point, received Long/);
});

test('labels and parameters of the wrong shape are named as such', async () => {
  const images = make([4, 1, 8, 8]);
  const net = await Network.adopt(spec, make([P]));
  try {
    await expect(net.trainEpoch({ images, labels: make([3], 'int64'), lr: 0.01, seed: 0 })).rejects.toThrow(
      /labels must be int64 \[4\] .* received Long \[3\]/,
    );
  } finally {
    net.dispose();
  }
  const start = make([P]);
  const target = make([P], 'float32', 1);
  await expect(matchIteration(spec, { images, labels: make([4, 1], 'int64'), start, target, lr: 0.01, synSteps: 2 })).rejects.toThrow(
    /labels must be int64 \[4\] .* received Long \[4, 1\]/,
  );
  await expect(matchIteration(spec, { images, labels: make([4], 'int64'), start: make([P + 1]), target, lr: 0.01, synSteps: 2 })).rejects.toThrow(
    `start must have shape [${P}] (the network's parameter count), received [${P + 1}]`,
  );
  await expect(Network.adopt(spec, make([1, P]))).rejects.toThrow(`params must have shape [${P}], received [1, ${P}]`);
  await expect(convNetForward(spec, images, make([P, 1]))).rejects.toThrow(`the parameter vector must have shape [${P}], received [${P}, 1]`);
  expect(() => sgdStep(images, make([4, 8, 8]), make([4, 1, 8, 8]), 1, 0.5)).toThrow(/sgdStep: .*\[4, 1, 8, 8\].*\[4, 8, 8\]|\[4, 8, 8\].*\[4, 1, 8, 8\]/);
});
