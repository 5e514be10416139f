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
import { tempDir } from '../data/fixtures';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The size knobs of the examples and the tiny values they run with here. */
const TINY: Record<string, number> = { numExperts: 1, epochs: 6, trainLimit: 300, iterations: 2, synSteps: 2, evalIt: 2, evalEpochs: 2, numEval: 1 };

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

function shrink(code: string): string {
  return code.replace(new RegExp(`\\b(${Object.keys(TINY).join('|')}): \\d+`, 'g'), (_, key: string) => `${key}: ${TINY[key]}`);
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
beforeAll(() => process.chdir(dir));
afterAll(() => {
  process.chdir(cwd);
  for (const l of process.listeners('SIGINT')) if (!sigint.includes(l)) process.removeListener('SIGINT', l);
  fs.rmSync(dir, { recursive: true, force: true });
});

const blocks = tsBlocks(README);

test('the README has its library examples, each with the size knobs this test turns down', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  const shown = new Set(blocks.flatMap((b) => [...b.matchAll(/\b(\w+): \d+/g)].map((m) => m[1])));
  for (const key of Object.keys(TINY)) expect(shown).toContain(key);
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
