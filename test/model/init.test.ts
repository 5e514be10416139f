import { convNetInit, convNetLayout, convNetSpec } from '../../src/model/convnet';
import { disposeAll } from '../../src';
import { numbers } from '../helpers';

describe('ConvNet initialisation (PyTorch defaults, seeded)', () => {
  const spec = convNetSpec({ channels: 3, height: 16, width: 16, numClasses: 10, netWidth: 16, depth: 2 });
  const layout = convNetLayout(spec);

  test('the same seed gives the same network, another seed another', () => {
    const a = convNetInit(spec, { seed: 7 });
    const b = convNetInit(spec, { seed: 7 });
    const c = convNetInit(spec, { seed: 8 });
    expect(numbers(a)).toEqual(numbers(b));
    expect(numbers(a)).not.toEqual(numbers(c));
    disposeAll(a, b, c);
  });

  test('weights and biases are uniform in +-1/sqrt(fan_in); norm scale 1, shift 0', () => {
    const p = convNetInit(spec, { seed: 1, dtype: 'float64' });
    expect(p.dtype).toBe('float64');
    const values = numbers(p);
    p.dispose();
    const slice = (name: string) => {
      const t = layout.tensors.find((x) => x.name === name)!;
      return values.slice(t.offset, t.offset + t.numel);
    };
    const checkUniform = (name: string, fanIn: number) => {
      const v = slice(name);
      const bound = 1 / Math.sqrt(fanIn);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.8 * bound); // spread over the whole range
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      expect(Math.abs(mean)).toBeLessThan(0.2 * bound);
    };
    checkUniform('features.0.conv.weight', 3 * 9);
    checkUniform('features.0.conv.bias', 3 * 9);
    checkUniform('features.1.conv.weight', 16 * 9);
    checkUniform('classifier.weight', 16 * 4 * 4);
    checkUniform('classifier.bias', 16 * 4 * 4);
    expect(slice('features.1.norm.weight').every((x) => x === 1)).toBe(true);
    expect(slice('features.1.norm.bias').every((x) => x === 0)).toBe(true);
  });

  test('a bad seed is refused', () => {
    expect(() => convNetInit(spec, { seed: -1 })).toThrow('Expected a non-negative integer for seed but received -1');
    expect(() => convNetInit(spec, { seed: 1.5 })).toThrow(/for seed/);
  });
});
