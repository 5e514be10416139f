import { datasetOptions } from '../../src/data/dataset';
import { parseOptions } from '../../src/config/validate';
import { distillOptionsSchema } from '../../src/distill/options';
import { defaultPreset, PRESETS } from '../../src/distill/presets';
import { networkOptionsSchema } from '../../src/model/convnet';
import { bufferOptionsSchema } from '../../src/trajectory/buffer';

describe('presets', () => {
  test.each(Object.entries(PRESETS))('%s is valid and fits its experts', (_name, p) => {
    const d = parseOptions(distillOptionsSchema, p.distill, 'distill');
    const b = parseOptions(bufferOptionsSchema, p.buffer, 'buffer');
    parseOptions(networkOptionsSchema, p.network ?? {}, 'network');
    datasetOptions(p.data);
    if (d.method === 'mtt') {
      expect(Number.isInteger(d.maxStartEpoch) && Number.isInteger(d.expertEpochs)).toBe(true);
      expect(d.maxStartEpoch - 1 + d.expertEpochs).toBeLessThanOrEqual(b.epochs);
    } else {
      expect(d.maxStartEpoch).toBeLessThan(b.epochs);
    }
    if (d.batchSyn !== undefined)
      expect(d.batchSyn).toBeLessThanOrEqual(d.ipc * (p.data.dataset === 'cifar100' ? 100 : p.data.dataset === 'tiny-imagenet' ? 200 : 10));
  });

  test('published presets evaluate as the published scripts and name their source; MCT ZCA IPC 1 uses convexify.py waypoints', () => {
    for (const [name, p] of Object.entries(PRESETS)) {
      expect(p.source.length).toBeGreaterThan(0);
      if (p.source === 'ours') continue;
      expect(p.distill).toMatchObject({ iterations: 5000, evalIt: 100, evalEpochs: 1000, numEval: p.distill.method === 'mtt' ? 5 : 3 });
      expect(p.buffer).toMatchObject({ numExperts: 100, epochs: 50 });
      if (!name.endsWith('-mct') || name.startsWith('cifar10-')) expect(p.source).not.toMatch(/^ours/);
    }
    expect(PRESETS['cifar10-ipc1-mct-zca']).toMatchObject({
      data: { dataset: 'cifar10', zca: true },
      distill: { synSteps: 50, expertEpochs: 5, maxStartEpoch: 3, lrImg: 500, lrLr: 1e-5, waypointEpochs: [0, 6, 25, 50] },
    });
    expect(PRESETS['cifar100-ipc1-mct'].source).toMatch(/^ours/);
  });

  test('the default job: the CPU-sized preset on a CPU, the full one on CUDA', () => {
    expect(defaultPreset('cpu')).toBe('fashion-mnist-cpu');
    expect(defaultPreset('cuda:0')).toBe('fashion-mnist-ipc10');
    expect(PRESETS['cifar10-ipc1-mtt'].distill).toMatchObject({ synSteps: 50, expertEpochs: 2, maxStartEpoch: 2, lrImg: 100, lrLr: 1e-7, lrTeacher: 0.01 });
    expect(PRESETS['cifar10-ipc1-mct'].distill).toMatchObject({ method: 'mct', synSteps: 60, expertEpochs: 6, maxStartEpoch: 4, lrImg: 500 });
  });

  test("MCT presets take half of the published lr_img (the published tesla step is half of the exact gradient) and say so; MTT's do not", () => {
    for (const [name, p] of Object.entries(PRESETS)) {
      if (p.source === 'ours') continue;
      if (p.distill.method === 'mct') {
        const published = Number(/lr_img: the published (\S+) halved/.exec(p.source)?.[1]);
        expect(p.distill.lrImg).toBe(published / 2);
        expect(p.source).toContain('distill_compressed.py:521');
        expect(p.description).toContain(`lr_img ${p.distill.lrImg} (published ${published}, halved)`);
      } else {
        expect(p.source).not.toMatch(/halved/);
      }
      // the -mct copies of MTT's CIFAR-100 and Tiny ImageNet settings halve MTT's lr_img
      const mtt = PRESETS[name.replace(/-mct$/, '-mtt')];
      if (name.endsWith('-mct') && !name.startsWith('cifar10-')) expect(p.distill.lrImg).toBe(mtt.distill.lrImg! / 2);
    }
  });

  test("MTT presets follow the MTT paper's hyper-parameter table (ZCA of CIFAR-100 IPC 10 and 50, Tiny ImageNet IPC 1's start window)", () => {
    expect(PRESETS['cifar100-ipc1-mtt'].data.zca).toBe(true);
    expect(PRESETS['cifar100-ipc10-mtt'].data.zca).toBe(false);
    expect(PRESETS['cifar100-ipc50-mtt'].data.zca).toBe(true);
    expect(PRESETS['tiny-imagenet-ipc1-mtt'].distill.maxStartEpoch).toBe(10);
    expect(PRESETS['cifar100-ipc10-mct'].data.zca).toBe(false);
    expect(PRESETS['cifar100-ipc50-mct'].data.zca).toBe(true);
    expect(PRESETS['tiny-imagenet-ipc1-mct'].distill.maxStartEpoch).toBe(10);
  });
});
