import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { findTorchPython } from '../../src/bench/reference';
import { BenchPreset, runBench } from '../../src/bench/run';
import { TrajmatchInterrupted } from '../../src/errors';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

// A bench on the small learnable dataset: every section runs, in seconds.
const root = tempDir('bench');
const network = { netWidth: 4, depth: 1 };
const tiny: BenchPreset = {
  network,
  buffer: { numExperts: 2, epochs: 4, batchSize: 64 },
  distill: { ipc: 1, iterations: 4, evalIt: 2, numEval: 1, evalEpochs: 5, synSteps: 3, expertEpochs: 1, maxStartEpoch: 2, lrImg: 10, lrLr: 1e-6, waypoints: 2 },
  seeds: [0, 1],
  timingNetwork: { channels: 1, height: 10, width: 10, numClasses: 10, netWidth: 4 },
  timing: (['unroll', 'tesla', 'adjoint'] as const).map((gradMethod) => ({ gradMethod, ipc: 1, synSteps: 3, iterations: 2, warmup: 1 })),
  crossArch: ['alexnet'],
  crossArchEval: { numEval: 1, epochs: 2 },
};
const options = () => ({ dataset: 'mnist' as const, dataPath: path.join(root, 'data'), bufferPath: path.join(root, 'buffers'), device: 'cpu' });

beforeAll(() => writeLearnableMnist(path.join(root, 'data'), 200, 100));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const found = findTorchPython();
const torchPython = 'python' in found ? found.python : undefined;
if (!torchPython && process.env.CI) throw new Error(`the bench's reference needs a Python with torch in CI: ${'reason' in found ? found.reason : ''}`);

describe('the MTT vs MCT bench', () => {
  const outDir = path.join(root, 'out');

  test('the JSON holds every figure for both methods, and the machine', async () => {
    await runBench({ ...options(), outDir }, {}, tiny);
    const r = JSON.parse(fs.readFileSync(path.join(outDir, 'bench.json'), 'utf8'));
    expect(r.machine).toMatchObject({ device: 'cpu', cpus: expect.any(Number), libtorch: expect.stringMatching(/^\d/) });
    expect(r.timing.map((t: { gradMethod: string }) => t.gradMethod)).toEqual(['unroll', 'tesla', 'adjoint']);
    for (const t of r.timing) {
      expect(t.msPerIteration).toBeGreaterThan(0);
      expect(t.samplesMs).toHaveLength(2);
      expect(t.peakRssBytes).toBeGreaterThan(t.baselineRssBytes / 2);
      expect(t.minorFaultsPerIteration).toBeGreaterThanOrEqual(0);
      expect(t.userSeconds + t.systemSeconds).toBeGreaterThan(0);
    }
    expect(r.storage).toMatchObject({ experts: 2, waypoints: 2 });
    expect(r.storage.ratio).toBeGreaterThan(1);
    for (const method of ['mtt', 'mct']) {
      const runs = r.convergence.filter((c: { method: string }) => c.method === method);
      expect(runs.map((c: { seed: number }) => c.seed)).toEqual([0, 1]);
      for (const c of runs) {
        expect(c.evals.map((e: { iteration: number }) => e.iteration)).toEqual([0, 2, 4]);
        expect(c.losses).toHaveLength(4);
      }
      expect(r.stability[method]).toMatchObject({ seeds: 2, finalMean: expect.any(Number), finalStd: expect.any(Number) });
    }
    expect(r.crossArch.map((c: { method: string; arch: string }) => `${c.method}/${c.arch}`)).toEqual(['mtt/alexnet', 'mct/alexnet']);
    for (const c of r.crossArch) expect(c.mean).toBeGreaterThanOrEqual(0);
    // the published loops on the same cells, where a Python with torch exists (CI installs python3-torch)
    if (torchPython) {
      expect(r.reference).toMatchObject({ available: true, python: torchPython });
      expect(r.reference.rows.map((x: { gradMethod: string }) => x.gradMethod)).toEqual(['unroll', 'tesla']);
      for (const x of r.reference.rows) {
        expect(x).toMatchObject({ ipc: 1, synSteps: 3, samplesMs: [expect.any(Number), expect.any(Number)], torch: expect.stringMatching(/^\d/) });
        expect(x.msPerIteration).toBeGreaterThan(0);
        expect(x.minorFaultsPerIteration).toBeGreaterThanOrEqual(0);
      }
      expect(r.missing).toEqual([]);
      expect(r.sections.reference).toEqual({ status: 'complete', notes: [] });
      expect(fs.readFileSync(path.join(outDir, 'report.html'), 'utf8')).toContain('PyTorch eager ms');
    } else {
      expect(r.reference).toMatchObject({ available: false });
      expect(r.missing).toEqual([expect.stringMatching(/^the PyTorch reference: /)]);
      expect(r.sections.reference.status).toBe('missing');
    }
    for (const s of ['timing', 'storage', 'convergence', 'cross-architecture']) expect(r.sections[s]).toEqual({ status: 'complete', notes: [] });
    expect(fs.readFileSync(path.join(outDir, 'report.html'), 'utf8')).not.toContain('class="partial"');
  });

  test('size knobs: fewer seeds, iterations and timed iterations, another width; what measured less than the protocol is marked partial', async () => {
    const out = path.join(root, 'small');
    const r = await runBench(
      { ...options(), outDir: out, sections: ['speed', 'memory', 'accuracy'], seeds: [1], iterations: 2, timingIterations: 1, netWidth: 3, trainLimit: 60 },
      {},
      tiny,
    );
    expect(r.timing).toHaveLength(3);
    for (const t of r.timing) expect(t.samplesMs).toHaveLength(1);
    expect(r.settings.timingNetwork.netWidth).toBe(3);
    expect(r.settings.network.netWidth).toBe(3);
    expect(r.settings.buffer.trainLimit).toBe(60);
    expect(r.convergence.map((c) => `${c.method}${c.seed}`)).toEqual(['mtt1', 'mct1']);
    for (const c of r.convergence) expect(c.evals.map((e) => e.iteration)).toEqual([0, 2]);
    expect(r.sections.timing).toEqual({
      status: 'partial',
      notes: ["1 timed iterations per cell, not the protocol's 2", "network width 3, not the protocol's 4"],
    });
    expect(r.sections.convergence).toEqual({
      status: 'partial',
      notes: [
        "1 seed(s), not the protocol's 2",
        "2 iterations per run, not the protocol's 4",
        'experts trained on 60 images, not all as the protocol',
        "network width 3, not the protocol's 4",
      ],
    });
    expect(r.sections.storage.status).toBe('not asked');
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<p class="partial" data-section="timing"><strong>partial</strong>: 1 timed iterations per cell');
    expect(html).toContain('<p class="partial" data-section="convergence"><strong>partial</strong>: 1 seed(s)');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'bench.json'), 'utf8')).sections.convergence.status).toBe('partial');
    await expect(runBench({ ...options(), outDir: out, sections: ['speed', 'nothing'] } as never, {}, tiny)).rejects.toThrow(/bench\.sections\.1: /);
  });

  (chromium || process.env.CI ? test : test.skip)('the HTML report renders in headless Chromium with its plots, tables and images', () => {
    const page = `file://${path.join(outDir, 'report.html')}`;
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${path.join(root, 'chrome')}`,
    ];
    const r = spawnSync(chromium ?? 'chromium', [...args, '--dump-dom', page], { encoding: 'utf8', timeout: 60000 });
    expect(r.status).toBe(0);
    const dom = r.stdout;
    for (const id of ['plot-accuracy', 'plot-loss']) {
      expect(dom).toMatch(new RegExp(`<figure class="plot" id="${id}"><svg[^>]*class="marks"`));
    }
    expect((dom.match(/<path[^>]*d="M/g) ?? []).length).toBeGreaterThan(4); // drawn lines
    expect((dom.match(/<table>/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect((dom.match(/<img alt="(mtt|mct) synthetic images" src="data:image\/png;base64,/g) ?? []).length).toBe(2);
    const shot = spawnSync(chromium ?? 'chromium', [...args, `--screenshot=${path.join(root, 'report.png')}`, '--window-size=1200,2400', page], {
      timeout: 60000,
    });
    expect(shot.status).toBe(0);
    if (process.env.TRAJMATCH_KEEP_SCREENSHOT) fs.copyFileSync(path.join(root, 'report.png'), process.env.TRAJMATCH_KEEP_SCREENSHOT);
  });

  test('an interrupted bench keeps what it measured and says what is missing', async () => {
    const partial = path.join(root, 'partial');
    const ac = new AbortController();
    let timed = 0;
    const run = runBench(
      { ...options(), outDir: partial },
      {
        signal: ac.signal,
        log: (l) => {
          if (l.startsWith('timing') && ++timed === 2) ac.abort(new Error('stop'));
        },
      },
      tiny,
    );
    // the library's one abort error, naming the bench's folder, with the signal's reason as its cause
    const stopped = await run.catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(TrajmatchInterrupted);
    expect(stopped).toMatchObject({ name: 'TrajmatchInterrupted', operation: 'bench', runDir: partial, cause: new Error('stop') });
    const r = JSON.parse(fs.readFileSync(path.join(partial, 'bench.json'), 'utf8'));
    expect(r.timing).toHaveLength(2); // the cell under way when the signal came finishes; the next does not start
    expect(r.missing).toEqual(expect.arrayContaining(['storage', 'timing', 'convergence', 'cross-architecture', 'reference']));
    expect(r.sections.timing).toEqual({ status: 'partial', notes: ['interrupted after 2 of 3 cells: stop'] });
    expect(r.sections.storage.status).toBe('missing');
    const html = fs.readFileSync(path.join(partial, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Missing</h2>');
    expect(html).toContain('<p class="partial" data-section="timing"><strong>partial</strong>: interrupted after 2 of 3 cells: stop</p>');
  });

  test('sections: only the speed and memory section and the reference, without reading the dataset', async () => {
    const out = path.join(root, 'timing-only');
    const r = await runBench(
      { ...options(), dataPath: path.join(root, 'nowhere'), outDir: out, sections: ['timing', 'reference'], gradMethods: ['tesla'] },
      {},
      tiny,
    );
    expect(r.timing.map((t) => t.gradMethod)).toEqual(['tesla']);
    expect(r.storage).toBeNull();
    expect(r.convergence).toEqual([]);
    expect(r.missing).toEqual(['not asked for (sections): storage, convergence, cross-architecture']);
    if (torchPython) expect(r.reference).toMatchObject({ available: true, rows: [{ gradMethod: 'tesla' }] });
    // reference: true asks for its section whatever the sections; without a Python with torch it says why
    const before = process.env.TRAJMATCH_PYTHON;
    process.env.TRAJMATCH_PYTHON = path.join(root, 'no-such-python');
    try {
      const none = await runBench(
        { ...options(), outDir: path.join(root, 'no-python'), sections: ['timing'], gradMethods: ['unroll'], reference: true },
        {},
        tiny,
      );
      expect(none.reference).toMatchObject({ available: false, reason: expect.stringContaining('no Python with torch') });
      expect(none.sections.reference.status).toBe('missing');
    } finally {
      if (before === undefined) delete process.env.TRAJMATCH_PYTHON;
      else process.env.TRAJMATCH_PYTHON = before;
    }
    await expect(runBench({ ...options(), outDir: out, sections: ['cross-architecture'] }, {}, tiny)).rejects.toThrow(
      /bench\.sections: cross-architecture evaluates the sets of the convergence runs; add convergence/,
    );
  });

  test('bad options are named', async () => {
    await expect(runBench({ preset: 'huge' } as never)).rejects.toThrow(/bench\.preset: .*\(received "huge"\)/);
  });
});
