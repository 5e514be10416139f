/**
 * A tensor in use by an async native call still in flight is refused by every other call that
 * would race with it (a write beside anything, a read beside a write), with an error naming both
 * calls and the tensor's role; reads beside reads run. Once the call settles, ok or failed, the
 * tensor is free again.
 */
import {
  applyDsa,
  convNetInit,
  convNetLayout,
  convNetSpec,
  disposeAll,
  matchIteration,
  Network,
  sgdStep,
  tensor,
  TensorInUseError,
  trainEpoch,
} from '../../src';
import { checkNoLeakedHandles, randomValues } from '../helpers';

checkNoLeakedHandles();

const spec = convNetSpec({ channels: 1, height: 8, width: 8, numClasses: 4, netWidth: 8, depth: 1 });
const { numParams } = convNetLayout(spec);
const n = 32;

function data() {
  const images = tensor(new Float32Array(randomValues(n * 64, 3)), [n, 1, 8, 8]);
  const labels = tensor(
    BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 4)),
    [n],
  );
  const start = convNetInit(spec, { seed: 1 });
  const target = convNetInit(spec, { seed: 2 });
  return { images, labels, start, target };
}

test('sgdStep on the pixels a matchIteration is reading is refused, names both calls and roles, and works once it settles', async () => {
  const { images, labels, start, target } = data();
  const grad = tensor(new Float32Array(n * 64).fill(0.1), [n, 1, 8, 8]);
  const momentum = tensor(new Float32Array(n * 64), [n, 1, 8, 8]);
  const before = images.toArray();
  const pending = matchIteration(spec, { images, labels, start, target, lr: 0.01, synSteps: 3 });
  let error: unknown;
  try {
    sgdStep(images, grad, momentum, 0.1, 0.5);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TensorInUseError);
  expect((error as Error).message).toMatch(
    /^sgdStep: cannot write param: the tensor is in use by matchIteration \(which reads it as inputs\.images\), still running/,
  );
  // reading beside a read is fine: the values are what they were
  expect(images.toArray()).toEqual(before);
  const result = await pending;
  sgdStep(images, grad, momentum, 0.1, 0.5); // free again
  expect(images.toArray()).not.toEqual(before);
  disposeAll(images, labels, start, target, grad, momentum, result.gradImages);
});

test('two epochs on the same parameters at once: the second is refused; reading them meanwhile too', async () => {
  const { images, labels, start, target } = data();
  const params = start.to({});
  const a = await Network.adopt(spec, params);
  const b = await Network.adopt(spec, params);
  const epoch = { images, labels, lr: 0.01, batchSize: 8, seed: 0 };
  // every refusal happens when the call is made, before anything is awaited
  const first = a.trainEpoch(epoch);
  const second = b.trainEpoch(epoch);
  expect(() => params.toArray()).toThrow(TensorInUseError);
  expect(() => params.toArray()).toThrow(/^Tensor\.toArray: cannot read this tensor: the tensor is in use by Network\.trainEpoch/);
  const third = trainEpoch(spec, { params, ...epoch });
  const fourth = matchIteration(spec, { images, labels, start: params, target, lr: 0.01, synSteps: 1 });
  await expect(second).rejects.toThrow(
    /Network\.trainEpoch: cannot write the params of a Network: the tensor is in use by Network\.trainEpoch \(which writes it as the params of a Network\)/,
  );
  await expect(third).rejects.toThrow(TensorInUseError);
  await expect(fourth).rejects.toThrow(/matchIteration: cannot read inputs\.start: the tensor is in use by Network\.trainEpoch/);
  await first;
  // free again: the refused calls changed nothing, and the parameters train as one epoch from `start` would
  const once = start.to({});
  await trainEpoch(spec, { params: once, ...epoch });
  expect(params.toArray()).toEqual(once.toArray());
  await b.trainEpoch(epoch);
  a.dispose();
  b.dispose();
  disposeAll(images, labels, start, target, params, once);
});

test('the images an epoch reads may be read by other calls meanwhile, but not written', async () => {
  const { images, labels, start, target } = data();
  const params = start.to({});
  const grad = tensor(new Float32Array(n * 64), [n, 1, 8, 8]);
  const momentum = tensor(new Float32Array(n * 64), [n, 1, 8, 8]);
  const epoch = trainEpoch(spec, { params, images, labels, lr: 0.01, batchSize: 8, seed: 0 });
  const [augmented, match] = await Promise.all([
    applyDsa(images, { strategy: 'flip', seed: 0 }),
    matchIteration(spec, { images, labels, start, target, lr: 0.01, synSteps: 1 }),
  ]);
  await epoch;
  // the image tensor was free for a write once every reader settled
  sgdStep(images, grad, momentum, 0.1, 0.5);
  disposeAll(images, labels, start, target, params, grad, momentum, augmented.images, match.gradImages);
});

test('a call that fails on the worker frees its tensors too', async () => {
  const { images, labels, start, target } = data();
  const grad = tensor(new Float32Array(n * 64), [n, 1, 8, 8]);
  const momentum = tensor(new Float32Array(n * 64), [n, 1, 8, 8]);
  const wrong = tensor(new Float32Array(numParams + 1), [numParams + 1]);
  const failing = matchIteration(spec, { images, labels, start: wrong, target, lr: 0.01, synSteps: 1 });
  expect(() => sgdStep(images, grad, momentum, 0.1, 0.5)).toThrow(TensorInUseError);
  await expect(failing).rejects.toThrow(/start/);
  expect(() => sgdStep(images, grad, momentum, 0.1, 0.5)).not.toThrow();
  disposeAll(images, labels, start, target, grad, momentum, wrong);
});

test('tensors and networks support `using` (Symbol.dispose)', async () => {
  let outer: { disposed: boolean } | undefined;
  let net: Network | undefined;
  {
    using t = tensor(Float32Array.of(1, 2), [2]);
    outer = t;
    expect(t.disposed).toBe(false);
    using adopted = await Network.create({ arch: 'convnet', ...spec }, { seed: 0 });
    net = adopted;
  }
  expect(outer.disposed).toBe(true);
  expect(net.disposed).toBe(true);
});
