import { disposeAll, liveTensorCount, tensor, TrajmatchInputError } from '../../src';
import { native } from '../../src/native';
import { numbers } from '../helpers';

describe('tensor handles', () => {
  const cases: [string, () => ArrayBufferView & ArrayLike<number | bigint>, string][] = [
    ['Float32Array', () => new Float32Array([1.5, -2, 3.25, 0, 1e-7, 6]), 'float32'],
    ['Float64Array', () => new Float64Array([Math.PI, -Math.E, 1e-300, 0, 7, 8]), 'float64'],
    ['Int32Array', () => new Int32Array([1, -2, 2147483647, -2147483648, 0, 9]), 'int32'],
    ['BigInt64Array', () => new BigInt64Array([1n, -2n, 9007199254740993n, 0n, 5n, 6n]), 'int64'],
    ['Uint8Array', () => new Uint8Array([0, 1, 127, 128, 255, 3]), 'uint8'],
    ['Int8Array', () => new Int8Array([-128, 127, 0, 1, -1, 2]), 'int8'],
    ['Int16Array', () => new Int16Array([-32768, 32767, 0, 1, -1, 2]), 'int16'],
  ];

  test.each(cases)('%s round-trips with equal values, shape and dtype', (_name, make, dtype) => {
    const values = make();
    const t = tensor(values as never, [2, 3]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe(dtype);
    expect(t.device).toBe('cpu');
    expect(t.numel).toBe(6);
    const back = t.toArray();
    expect(back.constructor.name).toBe(values.constructor.name);
    expect(Array.from(back as ArrayLike<number>)).toEqual(Array.from(values as ArrayLike<number>));
    t.dispose();
  });

  test('the handle owns a copy: changing the source array later does not change the tensor', () => {
    const values = new Float32Array([1, 2, 3]);
    const t = tensor(values, [3]);
    values[0] = 99;
    expect(numbers(t)).toEqual([1, 2, 3]);
    t.dispose();
  });

  test('a view into a larger buffer uses only its own elements', () => {
    const big = new Float64Array([9, 9, 1, 2, 3, 9]);
    const t = tensor(big.subarray(2, 5), [3]);
    expect(numbers(t)).toEqual([1, 2, 3]);
    t.dispose();
  });

  test('dtype conversion on creation and with to()', () => {
    const t = tensor(new Float64Array([1.25, -2.5, 3]), [3], { dtype: 'float32' });
    expect(t.dtype).toBe('float32');
    expect(t.toArray().constructor.name).toBe('Float32Array');
    const i = t.to({ dtype: 'int32' });
    expect(numbers(i)).toEqual([1, -2, 3]);
    const b = t.to({ dtype: 'bool' });
    expect(b.dtype).toBe('bool');
    expect(numbers(b)).toEqual([1, 1, 1]);
    const h = t.to({ dtype: 'float16' });
    expect(numbers(h)).toEqual([1.25, -2.5, 3]);
    disposeAll(t, i, b, h);
  });

  test('scalars and empty tensors', () => {
    const s = tensor(new Float32Array([4]), []);
    expect(s.shape).toEqual([]);
    expect(numbers(s)).toEqual([4]);
    const e = tensor(new Float32Array(0), [0, 5]);
    expect(e.shape).toEqual([0, 5]);
    expect(e.toArray().length).toBe(0);
    disposeAll(s, e);
  });

  test('the live-handle count rises with each handle and falls with dispose', () => {
    const before = liveTensorCount();
    const ts = Array.from({ length: 5 }, () => tensor(new Float32Array(4), [2, 2]));
    expect(liveTensorCount()).toBe(before + 5);
    const copy = ts[0].to({ dtype: 'float64' });
    expect(liveTensorCount()).toBe(before + 6);
    disposeAll(...ts, copy);
    ts[0].dispose(); // disposing twice is harmless and does not count twice
    expect(liveTensorCount()).toBe(before);
  });

  describe('bad input gives errors that name the problem', () => {
    test('values that do not fill the shape', () => {
      expect(() => tensor(new Float32Array(5), [2, 3])).toThrow(new TrajmatchInputError('values: shape [2, 3] needs 6 values but the Float32Array holds 5'));
      // the native layer checks the same on its own
      expect(() => native().tensor(new Float32Array(5), [2, 3], { device: 'cpu' })).toThrow('shape [2, 3] needs 6 values but the Float32Array holds 5');
    });

    test('malformed shapes', () => {
      expect(() => tensor(new Float32Array(6), [2, -3])).toThrow(/Expected an array of non-negative integers for shape but received \[2, -3\]/);
      expect(() => tensor(new Float32Array(6), [2, 3.5])).toThrow(/for shape/);
      expect(() => tensor(new Float32Array(6), 6 as never)).toThrow(/for shape but received 6/);
      expect(() => native().tensor(new Float32Array(6), [2, -3], { device: 'cpu' })).toThrow('shape[1]: sizes cannot be negative, received -3');
    });

    test('values that are not a supported typed array', () => {
      expect(() => tensor([1, 2, 3] as never, [3])).toThrow(/Expected a typed array for values but received \[1, 2, 3\]/);
      expect(() => tensor(new Uint32Array(3) as never, [3])).toThrow(/Uint32Array.*no libtorch dtype/);
    });

    test('an unknown dtype', () => {
      expect(() => tensor(new Float32Array(3), [3], { dtype: 'float8' as never })).toThrow(/for dtype but received "float8"/);
      const t = tensor(new Float32Array(3), [3]);
      expect(() => t.to({ dtype: 'complex' as never })).toThrow(/unknown dtype 'complex': expected one of float32/);
      t.dispose();
    });

    test('a disposed handle', () => {
      const t = tensor(new Float32Array(3), [3]);
      t.dispose();
      expect(t.disposed).toBe(true);
      expect(() => t.toArray()).toThrow('the Tensor handle was disposed');
      expect(() => t.shape).toThrow('the Tensor handle was disposed');
      expect(() => t.to({ dtype: 'float64' })).toThrow('the Tensor handle was disposed');
    });

    test('Tensor cannot be constructed from JS', () => {
      const Ctor = native().Tensor as unknown as new (...args: unknown[]) => unknown;
      expect(() => new Ctor()).toThrow(/cannot be constructed directly/);
      expect(() => new Ctor('anything')).toThrow(/cannot be constructed directly/);
    });

    test('no message carries the C++ backtrace', () => {
      const t = tensor(new Float32Array(3), [3]);
      try {
        t.to({ device: 'cuda:7' });
      } catch (e) {
        expect((e as Error).message).not.toMatch(/Exception raised from|frame #/);
      }
      t.dispose();
    });
  });
});
