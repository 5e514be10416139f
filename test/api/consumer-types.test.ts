/**
 * The package's type declarations, as a TypeScript project that depends on it compiles them: with
 * esModuleInterop off and skipLibCheck off, under CommonJS resolution (node10) and under Node's own
 * (nodenext, from a CommonJS and an ES module file). The declarations are emitted fresh from src
 * with the build's own tsconfig (stripInternal included) into a package folder that has the real
 * package.json, so the test never reads a stale dist/. Nothing but the declarations of the package
 * and of Node may be compiled: no dependency's types (zod, commander, ...) may leak into them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.resolve(__dirname, '..', '..');

/** A consumer's code: the main entry points and option types, used as a user would. */
const CONSUMER = `
import {
  BufferOptions,
  ConvNetSpec,
  DatasetOptions,
  DistillOptions,
  EvalOptions,
  ExpertInfo,
  JobEvent,
  JobOptions,
  NetworkOptions,
  ParsedDatasetOptions,
  ParsedDistillOptions,
  Preset,
  ProcessGroupOptions,
  SyntheticInfo,
  PRESETS,
  TrajmatchInputError,
  convNetForDataset,
  datasetOptions,
  evaluateSyntheticSet,
  loadDataset,
  readSyntheticSet,
  runDistillJob,
  trainExperts,
} from 'trajmatch';

const data: DatasetOptions = { dataset: 'cifar10', dataPath: '/data/cifar10', zca: true, channels: 3 };
const network: NetworkOptions = { netWidth: 128, depth: 3, norm: 'instance' };
const buffer: BufferOptions = { numExperts: 10, epochs: 5, dsa: null, form: 'mct' };
const distill: DistillOptions = { method: 'mct', ipc: 10, gradMethod: 'tesla', waypointEpochs: [0, 6, 25, 50] };
const evalOptions: EvalOptions = { numEval: 3, epochs: 300 };
const group: ProcessGroupOptions = { rank: 0, worldSize: 2, masterPort: 29500, agreed: { seed: 1 } };
// @ts-expect-error unknown options are refused: the types are real, not any
const typo: DistillOptions = { lrImgg: 100 };
// @ts-expect-error the dataset is one of the names
const unknownDataset: DatasetOptions = { dataset: 'imagenet-1k' };
const parsed: ParsedDatasetOptions = datasetOptions(data);
const preset: Preset | undefined = PRESETS['cifar10-ipc10-mct'];

export async function job(): Promise<number> {
  const options: JobOptions = { preset: 'cifar10-ipc10-mct', data, network, buffer, distill };
  const result = await runDistillJob(options, { onEvent: (e: JobEvent) => console.log(e.type) });
  const dataset = await loadDataset({ ...data, device: parsed.device });
  const spec: ConvNetSpec = convNetForDataset(dataset, network);
  const experts = await trainExperts(dataset, { ...buffer, network });
  const set = await readSyntheticSet(result.files.best);
  const info: SyntheticInfo = set.info;
  const method: 'mtt' | 'mct' | 'real' = info.method;
  const evaluated = await evaluateSyntheticSet(set, { eval: evalOptions });
  const resolved: ParsedDistillOptions['ipc'] = info.ipc;
  return experts.trained.length + evaluated.lr + resolved + method.length + spec.netWidth;
}

export function widthOf(expert: ExpertInfo): number {
  return expert.convnet.netWidth + (expert.trainLimit ?? 0);
}

export const used = [typo, unknownDataset, preset, group, TrajmatchInputError];
`;

/** Emits the declarations of src with tsconfig.build.json's options into `outDir`. */
function emitDeclarations(outDir: string): void {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.build.json could not be read');
  const options: ts.CompilerOptions = {
    ...config.options,
    outDir,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    incremental: false,
    tsBuildInfoFile: undefined,
    noEmit: false,
  };
  const program = ts.createProgram(config.fileNames, options);
  const emitted = program.emit();
  const problems = [...config.errors, ...emitted.diagnostics];
  if (emitted.emitSkipped || problems.length > 0) throw new Error(`emitting the declarations failed:\n${format(problems)}`);
}

function format(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' });
}

/** Packages whose declaration files a program compiles (the last node_modules folder's package of each file). */
function packagesOf(program: ts.Program): Set<string> {
  const names = new Set<string>();
  for (const file of program.getSourceFiles()) {
    const parts = file.fileName.split('/node_modules/');
    if (parts.length < 2) continue;
    const rest = parts[parts.length - 1].split('/');
    names.add(rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
  }
  return names;
}

let tmp: string;
let consumer: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trajmatch-consumer-types-'));
  consumer = path.join(tmp, 'consumer');
  // the consumer's node_modules: this package (its package.json, fresh declarations, its own dependencies) and Node's types
  const pkg = path.join(consumer, 'node_modules', 'trajmatch');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  emitDeclarations(path.join(pkg, 'dist'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  fs.mkdirSync(path.join(consumer, 'node_modules', '@types'));
  fs.symlinkSync(path.join(root, 'node_modules', '@types', 'node'), path.join(consumer, 'node_modules', '@types', 'node'), 'dir');
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  fs.writeFileSync(path.join(consumer, 'index.ts'), CONSUMER);
  fs.writeFileSync(path.join(consumer, 'index.mts'), CONSUMER);
}, 120000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// a Node project's settings: ES2022 without the DOM's types (Node's come from @types/node)
const strict = { strict: true, esModuleInterop: false, skipLibCheck: false, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'] };

describe.each([
  {
    name: 'module commonjs, moduleResolution node10',
    options: { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 },
    files: ['index.ts'],
  },
  {
    name: 'module nodenext, moduleResolution nodenext (CommonJS and ES module files)',
    options: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
    files: ['index.ts', 'index.mts'],
  },
])('a consumer project compiles the declarations: $name', ({ options, files }) => {
  test('without diagnostics, through the package.json types, and with no dependency types but Node', () => {
    const compilerOptions: ts.CompilerOptions = { ...strict, ...options };
    // compiled as tsc would in the consumer's folder (its node_modules/@types are found from there)
    const host = ts.createCompilerHost(compilerOptions);
    host.getCurrentDirectory = () => consumer;
    const program = ts.createProgram(
      files.map((f) => path.join(consumer, f)),
      compilerOptions,
      host,
    );
    const diagnostics = ts.getPreEmitDiagnostics(program);
    expect(format(diagnostics)).toBe('');

    // 'trajmatch' resolves to the package's declarations, by the package.json (types, or exports where it has them)
    for (const file of files) {
      const from = path.join(consumer, file);
      const mode = program.getSourceFile(from)!.impliedNodeFormat;
      const resolved = ts.resolveModuleName('trajmatch', from, compilerOptions, host, undefined, undefined, mode).resolvedModule;
      expect(resolved?.resolvedFileName).toBe(path.join(consumer, 'node_modules', 'trajmatch', 'dist', 'index.d.ts'));
    }
    // the declarations need no package's types but Node's (and undici-types, which @types/node uses)
    expect([...packagesOf(program)].sort()).toEqual(['@types/node', 'trajmatch', 'typescript', 'undici-types']);
  });
});
