import { convNetForward, convNetLayout, convNetSpec, disposeAll, tensor, TrajmatchInputError, TrajmatchNativeError } from '../../src';
import { maxAbsDiff, randomValues } from '../helpers';

/**
 * A plain-JS forward pass of a depth-1 ConvNet (conv 3x3 -> optional instance norm -> ReLU ->
 * 2x2 average pool -> linear), written from the definition, to check the engine against.
 */
function referenceForward(
  x: Float64Array,
  n: number,
  c: number,
  h: number,
  w: number,
  p: Float64Array,
  f: number,
  classes: number,
  instanceNorm: boolean,
): number[] {
  const pad = c === 1 ? 3 : 1;
  const oh = h + 2 * pad - 2;
  const ow = w + 2 * pad - 2;
  let o = 0;
  const take = (k: number) => {
    const v = p.subarray(o, o + k);
    o += k;
    return v;
  };
  const cw = take(f * c * 9);
  const cb = take(f);
  const gw = instanceNorm ? take(f) : null;
  const gb = instanceNorm ? take(f) : null;
  const ph = Math.floor(oh / 2);
  const pw = Math.floor(ow / 2);
  const lw = take(classes * f * ph * pw);
  const lb = take(classes);
  const out: number[] = [];
  for (let s = 0; s < n; s++) {
    const feat: number[] = [];
    for (let fo = 0; fo < f; fo++) {
      const map = new Float64Array(oh * ow);
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let acc = cb[fo];
          for (let ci = 0; ci < c; ci++)
            for (let ki = 0; ki < 3; ki++)
              for (let kj = 0; kj < 3; kj++) {
                const yi = i + ki - pad;
                const xj = j + kj - pad;
                if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue;
                acc += cw[((fo * c + ci) * 3 + ki) * 3 + kj] * x[((s * c + ci) * h + yi) * w + xj];
              }
          map[i * ow + j] = acc;
        }
      if (gw && gb) {
        const mean = map.reduce((a, b) => a + b, 0) / map.length;
        const variance = map.reduce((a, b) => a + (b - mean) ** 2, 0) / map.length;
        for (let k = 0; k < map.length; k++) map[k] = ((map[k] - mean) / Math.sqrt(variance + 1e-5)) * gw[fo] + gb[fo];
      }
      for (let k = 0; k < map.length; k++) map[k] = Math.max(0, map[k]);
      for (let i = 0; i < ph; i++)
        for (let j = 0; j < pw; j++) {
          feat.push((map[2 * i * ow + 2 * j] + map[2 * i * ow + 2 * j + 1] + map[(2 * i + 1) * ow + 2 * j] + map[(2 * i + 1) * ow + 2 * j + 1]) / 4);
        }
    }
    for (let k = 0; k < classes; k++) {
      let acc = lb[k];
      for (let q = 0; q < feat.length; q++) acc += lw[k * feat.length + q] * feat[q];
      out.push(acc);
    }
  }
  return out;
}

describe('ConvNet', () => {
  test('parameter count of the published ConvNet matches a hand count', () => {
    // 32x32x3, width 128, depth 3, instance norm: three conv blocks with norm scale/shift,
    // feature map 32 -> 16 -> 8 -> 4, then a 10-way classifier on 128*4*4 features.
    const conv1 = 128 * 3 * 9 + 128;
    const conv = 128 * 128 * 9 + 128;
    const norm = 2 * 128;
    const classifier = 10 * 128 * 4 * 4 + 10;
    const layout = convNetLayout(convNetSpec({ channels: 3, height: 32, width: 32, numClasses: 10 }));
    expect(layout.numParams).toBe(conv1 + 2 * conv + 3 * norm + classifier);
    expect(layout.numParams).toBe(320010);
    expect(layout.tensors.map((t) => t.name)).toEqual([
      'features.0.conv.weight',
      'features.0.conv.bias',
      'features.0.norm.weight',
      'features.0.norm.bias',
      'features.1.conv.weight',
      'features.1.conv.bias',
      'features.1.norm.weight',
      'features.1.norm.bias',
      'features.2.conv.weight',
      'features.2.conv.bias',
      'features.2.norm.weight',
      'features.2.norm.bias',
      'classifier.weight',
      'classifier.bias',
    ]);
    // offsets tile the flat vector without gaps
    let offset = 0;
    for (const t of layout.tensors) {
      expect(t.offset).toBe(offset);
      expect(t.numel).toBe(t.shape.reduce((a, b) => a * b, 1));
      offset += t.numel;
    }
    expect(offset).toBe(layout.numParams);
  });

  test('single-channel 28x28 images are padded to 32x32 feature maps, as published', () => {
    const layout = convNetLayout(convNetSpec({ channels: 1, height: 28, width: 28, numClasses: 10 }));
    expect(layout.tensors[0].shape).toEqual([128, 1, 3, 3]);
    expect(layout.tensors.at(-2)!.shape).toEqual([10, 128 * 4 * 4]);
  });

  test('layer norm has per-position scale and shift; no norm has none', () => {
    const layer = convNetLayout(convNetSpec({ channels: 3, height: 8, width: 8, numClasses: 2, netWidth: 4, depth: 1, norm: 'layer' }));
    expect(layer.tensors[2]).toMatchObject({ name: 'features.0.norm.weight', shape: [4, 8, 8] });
    const none = convNetLayout(convNetSpec({ channels: 3, height: 8, width: 8, numClasses: 2, netWidth: 4, depth: 1, norm: 'none' }));
    expect(none.tensors.map((t) => t.name)).toEqual(['features.0.conv.weight', 'features.0.conv.bias', 'classifier.weight', 'classifier.bias']);
  });

  test.each([
    ['none', 3],
    ['instance', 3],
    ['instance', 1],
  ] as const)('forward matches a hand computation (norm %s, %i channel(s))', async (norm, c) => {
    const spec = convNetSpec({ channels: c, height: 4, width: 4, numClasses: 3, netWidth: 2, depth: 1, norm });
    const { numParams } = convNetLayout(spec);
    const x = randomValues(2 * c * 16, 1);
    const p = randomValues(numParams, 2, 0.5);
    const images = tensor(x, [2, c, 4, 4]);
    const params = tensor(p, [numParams]);
    const logits = await convNetForward(spec, images, params);
    expect(logits.shape).toEqual([2, 3]);
    expect(maxAbsDiff(logits.toArray() as Float64Array, referenceForward(x, 2, c, 4, 4, p, 2, 3, norm === 'instance'))).toBeLessThan(1e-10);
    disposeAll(images, params, logits);
  });

  test('every norm, activation and pooling runs and gives finite logits', async () => {
    for (const norm of ['instance', 'batch', 'layer', 'group', 'none'] as const) {
      for (const activation of ['relu', 'sigmoid', 'leakyrelu'] as const) {
        for (const pooling of ['avg', 'max', 'none'] as const) {
          const spec = convNetSpec({ channels: 3, height: 8, width: 8, numClasses: 4, netWidth: 4, depth: 2, norm, activation, pooling });
          const { numParams } = convNetLayout(spec);
          const images = tensor(new Float32Array(randomValues(3 * 3 * 64, 3)), [3, 3, 8, 8]);
          const params = tensor(new Float32Array(randomValues(numParams, 4, 0.3)), [numParams]);
          const logits = await convNetForward(spec, images, params);
          expect(logits.shape).toEqual([3, 4]);
          expect(Array.from(logits.toArray() as Float32Array).every(Number.isFinite)).toBe(true);
          disposeAll(images, params, logits);
        }
      }
    }
  });

  describe('bad input', () => {
    test('invalid options name the option, the expectation and the value', () => {
      expect(() => convNetSpec({ channels: 3, height: 32, width: 32, numClasses: 10, depth: 0 })).toThrow(
        /convnet\.depth: .*(>0|positive|>=1).*\(received 0\)/,
      );
      expect(() => convNetSpec({ channels: 3, height: 32, width: 32, numClasses: 10, norm: 'batchnorm' as never })).toThrow(
        /convnet\.norm: .*\(received "batchnorm"\)/,
      );
      expect(() => convNetSpec({ channels: 3, height: 32, width: 32, numClasses: 10, widht: 3 } as never)).toThrow(/unknown option\(s\) convnet\.widht/);
      expect(() => convNetSpec({ channels: 3, height: 32, width: 32 } as never)).toThrow(/convnet\.numClasses/);
      expect(() => convNetSpec({ channels: 3, height: 32, width: 32, numClasses: 10, depth: 0 })).toThrow(TrajmatchInputError);
    });

    test('shapes that do not fit the dataset', () => {
      expect(() => convNetLayout(convNetSpec({ channels: 3, height: 28, width: 28, numClasses: 10, depth: 5 }))).toThrow(
        /depth 5 pools a 28x28 image below one pixel/,
      );
      expect(() => convNetLayout(convNetSpec({ channels: 3, height: 8, width: 8, numClasses: 10, netWidth: 6, norm: 'group', depth: 1 }))).toThrow(
        /netWidth must be a multiple of 4, received 6/,
      );
    });

    test('images, parameters and dtypes that do not match the network', async () => {
      const spec = convNetSpec({ channels: 3, height: 8, width: 8, numClasses: 2, netWidth: 4, depth: 1 });
      const { numParams } = convNetLayout(spec);
      const params = tensor(new Float32Array(numParams), [numParams]);
      const gray = tensor(new Float32Array(2 * 64), [2, 1, 8, 8]);
      await expect(convNetForward(spec, gray, params)).rejects.toThrow('convnetForward: ConvNet: images must have shape [N, 3, 8, 8], received [2, 1, 8, 8]');
      const short = tensor(new Float32Array(5), [5]);
      const images = tensor(new Float32Array(2 * 3 * 64), [2, 3, 8, 8]);
      await expect(convNetForward(spec, images, short)).rejects.toThrow(`parameter vector must have shape [${numParams}], received [5]`);
      const doubles = tensor(new Float64Array(2 * 3 * 64), [2, 3, 8, 8]);
      await expect(convNetForward(spec, doubles, params)).rejects.toThrow(/images are Double but parameters are Float/);
      await expect(convNetForward(spec, images, 'x' as never)).rejects.toThrow('params: expected a Tensor handle');
      await expect(convNetForward(spec, images, params)).resolves.toBeDefined();
      params.dispose();
      await expect(convNetForward(spec, images, params)).rejects.toThrow(TrajmatchNativeError);
      await expect(convNetForward(spec, images, params)).rejects.toThrow('params: the Tensor handle was disposed');
      disposeAll(gray, short, images, doubles);
    });
  });
});
