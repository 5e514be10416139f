/**
 * The README's library examples run as written: each ```ts block of README.md is transpiled and
 * run against this package (`from 'trajmatch'` is src/), in a fresh folder, with only the size
 * knobs the examples show turned down (the numbers after numExperts:, epochs:, ...), so that a
 * README that drifts from the code fails here.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { liveTensorCount } from '../../src';
import * as zlib from 'zlib';
import { tempDir } from '../data/fixtures';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The size knobs of the examples and the tiny values they run with here. */
const TINY: Record<string, number> = { numExperts: 1, epochs: 6, trainLimit: 300, iterations: 2, synSteps: 2, evalIt: 2, evalEpochs: 2, numEval: 1 };

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The data path the examples show, and a small set in its format used instead: its first images, as IDX files. */
const DATA_PATH = '/usr/share/datasets/fashion-mnist';
const small = tempDir('readme-data');

function shrink(code: string): string {
  return code
    .split(`'${DATA_PATH}'`)
    .join(JSON.stringify(small))
    .replace(new RegExp(`\\b(${Object.keys(TINY).join('|')}): \\d+`, 'g'), (_, key: string) => `${key}: ${TINY[key]}`);
}

/** Runs one block as an async module body; returns what it logged. */
async function run(code: string): Promise<unknown[][]> {
  const { outputText, diagnostics } = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  expect(diagnostics ?? []).toEqual([]);
  const logged: unknown[][] = [];
  const console = { log: (...args: unknown[]) => logged.push(args) };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const requireFor = (id: string): unknown => (id === 'trajmatch' ? require('../../src') : require(id));
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction('require', 'exports', 'console', outputText)(requireFor, {}, console);
  return logged;
}

const cwd = process.cwd();
const dir = tempDir('readme');
const sigint = process.listeners('SIGINT');
beforeAll(() => {
  const take = (name: string, count: number, itemBytes: number) => {
    const bytes = zlib.gunzipSync(fs.readFileSync(path.join(DATA_PATH, `${name}.gz`)));
    const header = Buffer.from(bytes.subarray(0, itemBytes === 1 ? 8 : 16));
    header.writeUInt32BE(count, 4);
    fs.writeFileSync(path.join(small, `${name}.gz`), zlib.gzipSync(Buffer.concat([header, bytes.subarray(header.length, header.length + count * itemBytes)])));
  };
  take('train-images-idx3-ubyte', 600, 28 * 28);
  take('train-labels-idx1-ubyte', 600, 1);
  take('t10k-images-idx3-ubyte', 200, 28 * 28);
  take('t10k-labels-idx1-ubyte', 200, 1);
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(cwd);
  for (const l of process.listeners('SIGINT')) if (!sigint.includes(l)) process.removeListener('SIGINT', l);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(small, { recursive: true, force: true });
});

const blocks = tsBlocks(README);

test('the README has its library examples, each with the size knobs this test turns down', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  const shown = new Set(blocks.flatMap((b) => [...b.matchAll(/\b(\w+): \d+/g)].map((m) => m[1])));
  for (const key of Object.keys(TINY)) expect(shown).toContain(key);
  expect(blocks[0]).toContain(DATA_PATH);
  expect(blocks[1]).toContain(DATA_PATH);
});

test('the whole job, with events and cancellation', async () => {
  const logged = await run(shrink(blocks[0]));
  expect(logged.some((l) => /^iteration \d+: /.test(String(l[0])))).toBe(true);
  expect(fs.existsSync(String(logged.at(-1)![1]))).toBe(true); // result.files.best
}, 300000);

test('step by step, and a saved set evaluated', async () => {
  const logged = await run(shrink(blocks[1]));
  const [convnet, alexnet] = logged.at(-1)! as number[];
  expect(convnet).toBeGreaterThan(0);
  expect(alexnet).toBeGreaterThan(0);
}, 300000);

test('the lower layers: tensors, `using`, a tensor in use refused', async () => {
  const before = liveTensorCount();
  const logged = await run(shrink(blocks[2]));
  expect(logged[0][0]).toBe(true);
  expect(String(logged[0][1])).toMatch(/sgdStep: cannot write param: the tensor is in use by matchIteration/);
  expect(logged[1][0]).toEqual([2, 1, 8, 8]);
  expect(logged.at(-1)![0]).toBe(before);
}, 60000);
