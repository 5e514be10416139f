import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { JobEvent, runDistillJob } from '../../src/distill/job';
import { writeAtomic } from '../../src/io/atomic';
import { checkOutputDir } from '../../src/io/output-path';
import { loadDataset } from '../../src/data/dataset';
import { resolveDevice } from '../../src/backend/device';
import { BufferEvent, trainExperts } from '../../src/trajectory/buffer';
import { exportPublishedBuffer } from '../../src/trajectory/interop';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

// Every output location is checked before the work whose results go there: a run folder that
// cannot be created fails at once, not after the experts were trained.
const root = tempDir('late');
const aFile = path.join(root, 'a-file');
beforeAll(() => {
  fs.writeFileSync(aFile, 'not a folder');
  writeLearnableMnist(path.join(root, 'data'), 100, 50);
  resolveDevice('cpu'); // loads the addon (seconds, once), which is not what is timed below
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('checkOutputDir', () => {
  test('a folder under a regular file, or a file where a folder is needed', () => {
    expect(() => checkOutputDir(path.join(aFile, 'run', 'x'), 'distill.runDir')).toThrow(
      `distill.runDir: cannot write in the folder ${path.join(aFile, 'run', 'x')}: ${aFile} is a file, not a folder`,
    );
    expect(() => checkOutputDir(aFile, 'bench.outDir')).toThrow(`bench.outDir: cannot write in the folder ${aFile}: it is a file, not a folder`);
    // what can be written passes: an existing folder, one still to create
    expect(() => checkOutputDir(path.join(root, 'new', 'deeper'), 'distill.runDir')).not.toThrow();
    expect(() => checkOutputDir(root, 'distill.runDir')).not.toThrow();
    expect(fs.existsSync(path.join(root, 'new'))).toBe(false); // a check creates nothing
  });

  // root may write anywhere: the permission check can only be seen by another user
  (process.getuid?.() === 0 ? test.skip : test)('an unwritable folder', () => {
    const locked = path.join(root, 'locked');
    fs.mkdirSync(locked);
    fs.chmodSync(locked, 0o500);
    try {
      expect(() => checkOutputDir(locked, 'distill.runDir')).toThrow(`distill.runDir: cannot write in the folder ${locked}: permission denied`);
      expect(() => checkOutputDir(path.join(locked, 'run'), 'distill.runDir')).toThrow(`cannot create it in ${locked} (permission denied)`);
    } finally {
      fs.chmodSync(locked, 0o700);
    }
  });
});

describe('the work does not start when its outputs cannot be written', () => {
  const job = (distill: object) => ({
    data: { dataset: 'mnist' as const, dataPath: path.join(root, 'data'), device: 'cpu' },
    network: { netWidth: 4, depth: 1 },
    buffer: { numExperts: 1, epochs: 2, batchSize: 64 },
    distill: { iterations: 2, synSteps: 2, maxStartEpoch: 1, expertEpochs: 1, evalIt: 100, numEval: 1, evalEpochs: 2, waypoints: 2, ...distill },
  });

  test('distill: a run folder under a regular file fails within a second and trains nothing', async () => {
    const events: JobEvent[] = [];
    const bufferPath = path.join(root, 'job-buffers');
    const began = Date.now();
    await expect(runDistillJob(job({ bufferPath, runDir: path.join(aFile, 'run') }), { onEvent: (e) => events.push(e) })).rejects.toThrow(
      `distill.runDir: cannot write in the folder ${path.join(aFile, 'run')}: ${aFile} is a file, not a folder`,
    );
    expect(Date.now() - began).toBeLessThan(1000);
    expect(events.filter((e) => e.type === 'buffer' || e.type === 'experts')).toEqual([]);
    expect(fs.existsSync(bufferPath)).toBe(false);
  });

  test('distill: a buffer root under a regular file fails before loading the data', async () => {
    const events: JobEvent[] = [];
    const began = Date.now();
    await expect(
      runDistillJob(job({ bufferPath: path.join(aFile, 'buffers'), runDir: path.join(root, 'job-run') }), { onEvent: (e) => events.push(e) }),
    ).rejects.toThrow(`distill.bufferPath: cannot write in the folder ${path.join(aFile, 'buffers')}: ${aFile} is a file, not a folder`);
    expect(Date.now() - began).toBeLessThan(1000);
    // only what the job said about its settings, before any work
    expect(events.map((e) => e.type)).toEqual(['settings']);
  });

  test('buffer: experts are not trained into a folder that cannot be made', async () => {
    const dataset = await loadDataset({ dataset: 'mnist', dataPath: path.join(root, 'data'), device: 'cpu' });
    try {
      const events: BufferEvent[] = [];
      await expect(
        trainExperts(
          dataset,
          { numExperts: 1, epochs: 2, waypoints: 2, bufferPath: path.join(aFile, 'b'), network: { netWidth: 4, depth: 1 } },
          { onEvent: (e) => events.push(e) },
        ),
      ).rejects.toThrow(/^buffer\.bufferPath: cannot write in the folder .*a-file is a file, not a folder$/);
      expect(events).toEqual([]);
    } finally {
      dataset.dispose();
    }
  });

  test('convert --to-pt: the output folder is checked before reading the experts', async () => {
    await expect(exportPublishedBuffer(path.join(root, 'no-such-buffer'), path.join(aFile, 'pt'), { form: 'mtt' })).rejects.toThrow(
      `outDir: cannot write in the folder ${path.join(aFile, 'pt')}: ${aFile} is a file, not a folder`,
    );
  });

  test('the command line names the flag', () => {
    const repo = path.resolve(__dirname, '..', '..');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), path.join(repo, 'src/cli/main.ts'), ...args], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, TS_NODE_PROJECT: path.join(repo, 'tsconfig.json') },
        timeout: 120000,
      });
    const distill = cli('distill', '--dataset', 'mnist', '--data-path', path.join(root, 'data'), '--run-dir', path.join(aFile, 'run'));
    expect(distill.status).toBe(1);
    expect(distill.stderr).toMatch(/--run-dir: cannot write in the folder .*a-file\/run: .*a-file is a file, not a folder/);
    const bench = cli('bench', '--out-dir', path.join(aFile, 'bench'));
    expect(bench.status).toBe(1);
    expect(bench.stderr).toMatch(/--out-dir: cannot write in the folder .*a-file\/bench/);
    const buffer = cli('buffer', '--buffer-path', aFile);
    expect(buffer.status).toBe(1);
    expect(buffer.stderr).toMatch(/--buffer-path: cannot write in the folder .*a-file: it is a file, not a folder/);
    const convert = cli('convert', '--buffer-dir', root, '--to-pt', path.join(aFile, 'pt'));
    expect(convert.status).toBe(1);
    expect(convert.stderr).toMatch(/--to-pt: cannot write in the folder .*a-file\/pt/);
  });
});

test('a file written where it cannot be names the file and why', async () => {
  await expect(writeAtomic(path.join(aFile, 'x', 'summary.json'), '{}')).rejects.toThrow(
    `cannot write ${path.join(aFile, 'x', 'summary.json')}: ${aFile} is a file, not a folder`,
  );
  await expect(writeAtomic(path.join(aFile, 'summary.json'), '{}')).rejects.toThrow(
    `cannot write ${path.join(aFile, 'summary.json')}: ${aFile} is a file, not a folder`,
  );
  await expect(writeAtomic(root, '{}')).rejects.toThrow(`cannot write ${root}: it is a folder`);
});
