/**
 * The flag table of the command line: every flag once, with the option it sets (a key path such
 * as distill.lrImg, in the groups of the library's options), its parser and its help. From it come
 * the commander options (help texts with the defaults of the library's schemas), the option objects
 * a command passes to the library, where each given setting came from, and error messages in the
 * user's terms: the library names options by key path, the CLI says which flag or config-file
 * entry set them.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { DSA_GROUPS } from '../augment/dsa';
import { benchOptionsSchema } from '../bench/run';
import { DATASET_NAMES, datasetOptionsSchema } from '../data/dataset';
import { GRAD_METHODS } from '../distill/match';
import { distillOptionsSchema } from '../distill/options';
import { PRESETS } from '../distill/presets';
import { EVAL_ARCHS, evalOptionsSchema } from '../eval/protocol';
import { networkOptionsSchema } from '../model/convnet';
import { bufferOptionsSchema } from '../trajectory/buffer';
import { DEFAULT_WAYPOINTS } from '../trajectory/files';

/**
 * Option groups. The first six are the library's option objects (JobOptions' data, network,
 * buffer, distill; EvalOptions; BenchOptions); job, command and output are read by the CLI itself.
 */
export const GROUP_SCHEMAS = {
  data: datasetOptionsSchema,
  network: networkOptionsSchema,
  buffer: bufferOptionsSchema,
  distill: distillOptionsSchema,
  eval: evalOptionsSchema,
  bench: benchOptionsSchema,
} as const;
export type LibraryGroup = keyof typeof GROUP_SCHEMAS;
export type Group = LibraryGroup | 'job' | 'command' | 'output';
export type KeyPath = `${Group}.${string}`;

export interface Flag {
  /** Commander syntax: '--lr-img <lr>', '--zca', '--no-dsa'. */
  flag: string;
  /** The option it sets. */
  path: KeyPath;
  help: string;
  /** Turns the text into the option's value; ranges and enums are the group schema's to check. */
  parse?: (text: string) => unknown;
  /** The default the help states, where the schema's is not what applies (e.g. eval: the synthetic set's own). */
  default?: string;
  /** The option's value for commander's (e.g. --no-dsa: false means dsa null). */
  value?: (given: unknown) => unknown;
  required?: boolean;
}

/** A commander parser for numbers that rejects what is not one, naming the value. */
export function numberArg(kind: 'number' | 'integer') {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (kind === 'integer' && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${kind === 'integer' ? 'an integer' : 'a number'}, received '${value}'`);
    }
    return n;
  };
}

/** A comma-separated list of integers, e.g. 0,6,25,50. */
export function integerListArg(value: string): number[] {
  const parts = value.split(',').map((v) => v.trim());
  const out = parts.map(Number);
  if (parts.some((p) => p === '') || out.some((n) => !Number.isInteger(n))) {
    throw new InvalidArgumentError(`expected comma-separated integers such as 0,6,25,50, received '${value}'`);
  }
  return out;
}

/** A comma-separated list, each item parsed by `item` (when given). */
export function listArg(item?: (text: string) => unknown) {
  return (value: string): unknown[] => value.split(',').map((v) => (item ? item(v.trim()) : v.trim()));
}

const int = numberArg('integer');
const num = numberArg('number');
const DSA_NONE = () => null;

// Each group's flags, as every command that has the group offers them.
const DATA: Flag[] = [
  { flag: '--dataset <name>', path: 'data.dataset', help: `dataset: ${DATASET_NAMES.join(', ')}` },
  { flag: '--data-path <path>', path: 'data.dataPath', help: "folder or archive to read (default: the dataset's usual place, where it has one)" },
  { flag: '--download', path: 'data.download', help: 'download the dataset from its official address into ~/.cache/trajmatch when it is missing' },
  { flag: '--device <device>', path: 'data.device', help: "'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'" },
  {
    flag: '--zca',
    path: 'data.zca',
    help: 'ZCA-whiten the raw [0, 1] pixels with a transform fitted on the training set, instead of normalising them (as published)',
  },
  { flag: '--zca-eps <eps>', path: 'data.zcaEps', help: 'ZCA regulariser (published: 0.1)', parse: num },
  { flag: '--image-size <n>', path: 'data.imageSize', help: 'imagefolder: resize images to n x n (default 32)', parse: int },
  { flag: '--channels <n>', path: 'data.channels', help: 'imagefolder: 3 (RGB, default) or 1 (grayscale)', parse: int },
  { flag: '--test-fraction <f>', path: 'data.testFraction', help: 'imagefolder without train/test folders: share held out for testing', parse: num },
  { flag: '--split-seed <n>', path: 'data.splitSeed', help: 'imagefolder without train/test folders: seed of the holdout', parse: int },
];

const NETWORK: Flag[] = [
  { flag: '--net-width <n>', path: 'network.netWidth', help: 'channels of each conv layer', parse: int },
  { flag: '--net-depth <n>', path: 'network.depth', help: 'conv blocks', parse: int },
  { flag: '--net-norm <norm>', path: 'network.norm', help: 'instance, batch, layer, group or none' },
  { flag: '--net-act <act>', path: 'network.activation', help: 'relu, sigmoid or leakyrelu' },
  { flag: '--net-pooling <pool>', path: 'network.pooling', help: 'avg, max or none' },
];

const JSON_OUTPUT: Flag[] = [
  {
    flag: '--json',
    path: 'output.json',
    help: 'JSON lines on stdout, one per event ({"event": ..., ...}: the library\'s onEvent events), then a "result" event, or an "error" event and a non-zero exit; nothing on stderr',
  },
  { flag: '--verbose', path: 'output.verbose', help: 'with --json: the progress lines on stderr too' },
];
const OUTPUT: Flag[] = [{ flag: '--quiet', path: 'output.quiet', help: 'print only the result' }, ...JSON_OUTPUT];
const JSON_ONLY = JSON_OUTPUT;

// How many experts, how long and on how much data: the buffer command's flags, which distill offers
// too (for the experts it trains when the buffer has too few).
const EXPERT_SIZE: Flag[] = [
  { flag: '--num-experts <n>', path: 'buffer.numExperts', help: 'experts to train, E', parse: int },
  { flag: '--train-epochs <n>', path: 'buffer.epochs', help: 'epochs per expert, T', parse: int },
  { flag: '--train-limit <n>', path: 'buffer.trainLimit', help: 'train on a seeded random subset of n training images (quick runs)', parse: int },
];

const BUFFER: Flag[] = [
  ...EXPERT_SIZE,
  { flag: '--lr-teacher <lr>', path: 'buffer.lrTeacher', help: 'SGD learning rate of the experts', parse: num },
  { flag: '--mom <m>', path: 'buffer.momentum', help: 'SGD momentum', parse: num },
  { flag: '--l2 <wd>', path: 'buffer.weightDecay', help: 'weight decay', parse: num },
  { flag: '--batch-train <n>', path: 'buffer.batchSize', help: 'batch size', parse: int },
  { flag: '--dsa-strategy <s>', path: 'buffer.dsa', help: `DSA strategy: groups of ${DSA_GROUPS.join(', ')} joined by '_'` },
  { flag: '--no-dsa', path: 'buffer.dsa', help: 'train the experts without augmentation', value: DSA_NONE },
  { flag: '--seed <n>', path: 'buffer.seed', help: 'seed of initialisations, shuffles and augmentations', parse: int },
  { flag: '--buffer-path <dir>', path: 'buffer.bufferPath', help: 'root folder of buffers' },
  { flag: '--form <form>', path: 'buffer.form', help: 'mtt (all checkpoints), mct (convexified, written while training) or both' },
  { flag: '--waypoints <k>', path: 'buffer.waypoints', help: 'MCT waypoints K, uniform scheme of trajectory_compression.py (published: 4)', parse: int },
  {
    flag: '--waypoint-epochs <list>',
    path: 'buffer.waypointEpochs',
    help: "MCT waypoints at these epochs, convexify.py's scheme (e.g. 0,6,25,50)",
    parse: integerListArg,
  },
  // how the run is spread over processes: read by the command itself (src/distributed)
  {
    flag: '--workers <n>',
    path: 'command.workers',
    parse: int,
    help: 'train the experts in n processes on this host (one per GPU with CUDA); with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, this process is one rank of a run over several hosts (default 1)',
  },
  {
    flag: '--dist-timeout <s>',
    path: 'command.distTimeout',
    help: 'seconds after which a rank that is missing, dead or hung stops the run (default 60)',
    parse: num,
  },
];

const JOB: Flag[] = [
  {
    flag: '--preset <name>',
    path: 'job.preset',
    help: `named settings: ${Object.keys(PRESETS).join(', ')} (default for Fashion-MNIST: fashion-mnist-cpu on a CPU, fashion-mnist-ipc10 on CUDA); --config and flags override it`,
  },
  { flag: '--no-preset', path: 'job.noPreset', help: 'apply no preset: only --config, the flags and the defaults', value: (v) => v === false },
  {
    flag: '--config <file>',
    path: 'job.config',
    help: 'a JSON file of options ({"data": {...}, "network": {...}, "buffer": {...}, "distill": {...}}); it overrides the preset, flags override it',
  },
  { flag: '--no-train-experts', path: 'job.noExpertTraining', help: 'fail instead of training experts when the buffer has too few', value: (v) => v === false },
  ...EXPERT_SIZE,
];

const DISTILL: Flag[] = [
  { flag: '--method <m>', path: 'distill.method', help: 'mct (convexified trajectories, continuous starts) or mtt' },
  { flag: '--ipc <n>', path: 'distill.ipc', help: 'images per class', parse: int },
  { flag: '--iterations <n>', path: 'distill.iterations', help: 'distillation iterations', parse: int },
  { flag: '--syn-steps <n>', path: 'distill.synSteps', help: 'student steps per iteration', parse: int },
  { flag: '--expert-epochs <m>', path: 'distill.expertEpochs', help: 'epochs of expert trajectory to match', parse: num },
  { flag: '--max-start-epoch <e>', path: 'distill.maxStartEpoch', help: 'starts are drawn below this epoch', parse: num },
  { flag: '--lr-img <lr>', path: 'distill.lrImg', help: 'lr of the pixels', parse: num },
  { flag: '--lr-lr <lr>', path: 'distill.lrLr', help: 'lr of the learnable student lr', parse: num },
  { flag: '--lr-teacher <lr>', path: 'distill.lrTeacher', help: 'initial student lr', parse: num },
  { flag: '--batch-syn <n>', path: 'distill.batchSyn', help: 'synthetic images per student step (default: all)', parse: int },
  {
    flag: '--grad-method <g>',
    path: 'distill.gradMethod',
    help: `${GRAD_METHODS.join(', ')}: exact (MTT's), constant memory (MCT's), exact and recomputed (default: unroll for mtt, tesla for mct)`,
  },
  { flag: '--pix-init <p>', path: 'distill.pixInit', help: 'real (random real images of each class) or noise' },
  { flag: '--eval-it <n>', path: 'distill.evalIt', help: 'evaluate every n iterations (published: 100)', parse: int },
  { flag: '--num-eval <n>', path: 'distill.numEval', help: "networks per evaluation (published: 5 in MTT's distill.py, 3 in MCT's)", parse: int },
  {
    flag: '--eval-epochs <n>',
    path: 'distill.evalEpochs',
    parse: int,
    help: 'epoch_eval_train of each evaluation network: it trains n + 1 epochs, as evaluate_synset (published: 1000)',
  },
  { flag: '--checkpoint-every <n>', path: 'distill.checkpointEvery', help: 'iterations between checkpoints', parse: int },
  { flag: '--seed <n>', path: 'distill.seed', help: 'seed of the run, and of the experts it trains unless the config file sets buffer.seed', parse: int },
  { flag: '--run-dir <dir>', path: 'distill.runDir', help: 'the run folder (default runs/<dataset>_<method>_ipc<ipc>)' },
  { flag: '--buffer-path <dir>', path: 'distill.bufferPath', help: 'root of the expert buffers' },
  { flag: '--waypoints <k>', path: 'distill.waypoints', help: 'K of the MCT expert files, uniform scheme (published: 4)', parse: int },
  {
    flag: '--waypoint-epochs <list>',
    path: 'distill.waypointEpochs',
    parse: integerListArg,
    help: "MCT expert files with waypoints at these epochs, convexify.py's scheme (e.g. 0,6,25,50)",
  },
  {
    flag: '--teacher-label',
    path: 'distill.teacherLabel',
    help: "soft labels: the softmax of the iteration's expert at --max-start-epoch on the images (MCT's and TESLA's --teacher_label)",
  },
  { flag: '--max-experts <n>', path: 'distill.maxExperts', help: 'use only the first n experts', parse: int },
  {
    flag: '--trajectory-batch <w>',
    path: 'distill.trajectoryBatch',
    parse: int,
    help: 'expert stretches matched per iteration, their gradients averaged (default 1; with ranks: their number)',
  },
  // how the run is spread over processes: read by the command itself (src/distributed)
  {
    flag: '--nproc <n>',
    path: 'command.nproc',
    parse: int,
    help: 'distil data-parallel over n processes on this host (one per GPU with CUDA); with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, this process is one rank of a run over several hosts (default 1)',
  },
  {
    flag: '--dist-timeout <s>',
    path: 'command.distTimeout',
    help: 'seconds after which a rank that is missing, dead or hung stops the run (default 60)',
    parse: num,
  },
];

/**
 * eval reads the dataset, its preprocessing and the ConvNet of a synthetic set from the set's own
 * metadata: its data and network flags say so in their defaults (the schema's apply to --baseline).
 */
const FROM_SET: Partial<Record<KeyPath, string>> = {
  'data.dataset': "the synthetic set's",
  'data.zca': 'as the synthetic set was distilled',
  'data.zcaEps': "the synthetic set's",
  'data.imageSize': "the synthetic set's; 32 with --baseline",
  'network.netWidth': "the synthetic set's",
  'network.depth': "the synthetic set's",
  'network.norm': "the synthetic set's",
  'network.activation': "the synthetic set's",
  'network.pooling': "the synthetic set's",
};
const fromSet = (flags: Flag[]): Flag[] =>
  flags.map((f) => {
    const set = FROM_SET[f.path];
    if (set === undefined) return f;
    const d = schemaDefault(f.path)?.value;
    // the default stated once, here (a help text may name the one that applies elsewhere)
    return { ...f, help: f.help.replace(/ \(default [^)]*\)/, ''), default: `${set}${d === undefined ? '' : `; ${formatDefault(d)} with --baseline`}` };
  });

const EVAL: Flag[] = [
  { flag: '--synthetic <file>', path: 'command.synthetic', help: 'a synthetic set file (.safetensors) to evaluate' },
  { flag: '--baseline', path: 'command.baseline', help: 'evaluate a random real subset of --ipc images per class instead' },
  { flag: '--ipc <n>', path: 'command.ipc', help: 'images per class of the baseline', parse: int },
  { flag: '--lr <lr>', path: 'command.lr', help: "training lr (default: the synthetic set's learned lr; the experts' 0.01 for the baseline)", parse: num },
  { flag: '--num-eval <n>', path: 'eval.numEval', help: 'fresh networks', parse: int },
  {
    flag: '--eval-epochs <n>',
    path: 'eval.epochs',
    help: 'epoch_eval_train of each: it trains n + 1 epochs, as evaluate_synset (published: 1000)',
    parse: int,
  },
  { flag: '--eval-batch <n>', path: 'eval.batchSize', help: 'batch size', parse: int },
  { flag: '--no-dsa', path: 'eval.dsa', help: 'train without augmentation', value: DSA_NONE },
  {
    flag: '--arch <list>',
    path: 'command.arch',
    help: `architectures to evaluate on, comma-separated: ${EVAL_ARCHS.join(', ')} (default convnet)`,
    parse: listArg(),
  },
  { flag: '--seed <n>', path: 'eval.seed', help: 'seed of the networks (and of the baseline subset)', parse: int },
];

const BENCH: Flag[] = [
  { flag: '--preset <p>', path: 'bench.preset', help: 'quick (minutes on a CPU) or full (GPU-sized, with the PyTorch reference)' },
  { flag: '--out-dir <dir>', path: 'bench.outDir', help: 'where bench.json, report.html and the runs go' },
  { flag: '--device <device>', path: 'bench.device', help: "'auto', 'cpu', 'cuda' or 'cuda:N'" },
  { flag: '--seeds <list>', path: 'bench.seeds', help: "seeds of the convergence runs, e.g. 0,1,2 (default: the preset's)", parse: listArg(int) },
  { flag: '--grad-methods <list>', path: 'bench.gradMethods', help: 'gradient methods to time, e.g. unroll,tesla', parse: listArg() },
  {
    flag: '--reference [script]',
    path: 'bench.reference',
    help: "time the PyTorch eager reference (the published loops, with Python's torch) on the same cells in the same call, even when --sections leaves it out; a script path replaces the bundled scripts/reference/eager_iteration.py",
  },
  {
    flag: '--sections <list>',
    path: 'bench.sections',
    help: 'sections to run: timing (also speed, memory), storage, convergence (also accuracy, stability), cross-architecture, reference; e.g. speed,memory,accuracy',
    parse: listArg(),
  },
  // size knobs: a bench smaller than its preset's protocol is marked partial in bench.json and report.html
  { flag: '--iterations <n>', path: 'bench.iterations', help: "distillation iterations of each convergence run (default: the preset's, quick 60)", parse: int },
  {
    flag: '--timing-iterations <n>',
    path: 'bench.timingIterations',
    help: "timed iterations of each speed and memory cell (default: the preset's, quick 5)",
    parse: int,
  },
  {
    flag: '--net-width <n>',
    path: 'bench.netWidth',
    help: "ConvNet width of the experts, the runs and the timing network (default: the preset's, quick 32)",
    parse: int,
  },
  {
    flag: '--train-limit <n>',
    path: 'bench.trainLimit',
    help: "the experts train on a seeded subset of n training images (default: the preset's, quick 6000)",
    parse: int,
  },
  { flag: '--buffer-path <dir>', path: 'bench.bufferPath', help: 'root of the expert buffers' },
  { flag: '--data-path <path>', path: 'bench.dataPath', help: 'Fashion-MNIST files (default: its usual place)' },
];

const CONVERT: Flag[] = [
  { flag: '--buffer-dir <dir>', path: 'command.bufferDir', help: 'a folder of our expert files: the one to convexify, or (with --to-pt) to export' },
  {
    flag: '--from-pt <files...>',
    path: 'command.fromPt',
    help: "published buffers to import: MTT's replay_buffer_N.pt, MCT's waypoint_buffer[_ipK]_N.pt with step_buffer[_ipK]_N.pt",
  },
  { flag: '--to-pt <dir>', path: 'command.toPt', help: 'write the experts of --buffer-dir as published .pt files into this folder' },
  {
    flag: '--dataset <name>',
    path: 'command.dataset',
    help: `--from-pt: the dataset the experts were trained on (${DATASET_NAMES.filter((d) => d !== 'imagefolder').join(', ')})`,
  },
  { flag: '--zca', path: 'command.zca', help: '--from-pt: the experts were trained on ZCA-whitened images (buffer.py --zca)' },
  { flag: '--zca-eps <eps>', path: 'command.zcaEps', help: '--from-pt: their ZCA regulariser (published: 0.1)', parse: num },
  { flag: '--buffer-path <dir>', path: 'command.bufferPath', help: '--from-pt: root of our buffers to import into (default ./buffers)' },
  { flag: '--first-expert <n>', path: 'command.firstExpert', help: '--from-pt: index of the first imported expert (default 0)', parse: int },
  { flag: '--form <form>', path: 'command.form', help: '--to-pt: mtt (replay_buffer_N.pt) or mct (waypoint/step files; default mtt)' },
  { flag: '--experts-per-file <n>', path: 'command.expertsPerFile', help: "--to-pt: experts per .pt file (buffer.py's save_interval: 10)", parse: int },
  { flag: '--waypoints <k>', path: 'command.waypoints', help: `MCT waypoints K, uniform scheme (default ${DEFAULT_WAYPOINTS})`, parse: int },
  {
    flag: '--waypoint-epochs <list>',
    path: 'command.waypointEpochs',
    help: "MCT waypoints at these epochs, convexify.py's scheme (e.g. 0,6,25,50)",
    parse: integerListArg,
  },
];

/** The flags of each command. */
export const COMMAND_FLAGS = {
  info: JSON_ONLY,
  dataset: [...DATA, ...JSON_ONLY],
  buffer: [...DATA, ...NETWORK, ...OUTPUT, ...BUFFER],
  convert: [...CONVERT, ...NETWORK, ...JSON_ONLY],
  eval: [...fromSet(DATA), ...fromSet(NETWORK), ...EVAL, ...JSON_ONLY],
  distill: [...DATA, ...NETWORK, ...OUTPUT, ...JOB, ...DISTILL],
  bench: [...BENCH, ...JSON_ONLY],
} satisfies Record<string, Flag[]>;

/** The schema default of a key path of a library group, if it has one. */
export function schemaDefault(path: KeyPath): { value: unknown } | undefined {
  const [group, key] = splitPath(path);
  const schema = GROUP_SCHEMAS[group as LibraryGroup] as z.ZodObject | undefined;
  const field = schema?.shape[key] as z.ZodType | undefined;
  if (!field || field.def.type !== 'default') return undefined;
  return { value: (field.def as unknown as { defaultValue: unknown }).defaultValue };
}

function splitPath(path: KeyPath): [Group, string] {
  const dot = path.indexOf('.');
  return [path.slice(0, dot) as Group, path.slice(dot + 1)];
}

/** The option name commander gives a flag's value ('--lr-img <lr>' -> lrImg, '--no-dsa' -> dsa). */
function attributeOf(flag: Flag): string {
  return new Option(flag.flag).attributeName();
}

/**
 * Adds a table's flags to a command, each help text ending with its schema default (for the
 * distill command, `presets: true`: the default without a preset, since a preset sets most).
 */
export function addFlags(cmd: Command, flags: readonly Flag[], options: { presets?: boolean } = {}): Command {
  for (const f of flags) {
    // booleans and negations say what they do; flags with a value show the schema's default
    const d = f.flag.includes('<') ? schemaDefault(f.path) : undefined;
    const formatted = d === undefined || d.value === undefined ? undefined : formatDefault(d.value);
    // a flag that states its own default says what the command really applies (eval: the synthetic set's own settings)
    const shown =
      f.default !== undefined
        ? ` (default ${f.default})`
        : formatted === undefined
          ? ''
          : ` (default ${formatted}${options.presets ? ' without a preset' : ''})`;
    const option = new Option(f.flag, `${f.help}${shown}`);
    if (f.parse) option.argParser(f.parse);
    if (f.required) option.makeOptionMandatory();
    cmd.addOption(option);
  }
  return cmd;
}

function formatDefault(value: unknown): string {
  if (value === null) return 'none';
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The options given on a command line, by group, and where each came from. */
export interface GivenOptions {
  groups: Partial<Record<Group, Record<string, unknown>>>;
  /** key path -> where its value came from: the flag ('--lr-img') or a config file entry ('job.json: distill.lrImg'). */
  sources: Map<string, string>;
}

/** The options a command's flags set (only those given on the command line). */
export function givenFlags(cmd: Command, flags: readonly Flag[]): GivenOptions {
  const given: GivenOptions = { groups: {}, sources: new Map() };
  const values = cmd.opts();
  for (const f of flags) {
    const attribute = attributeOf(f);
    if (cmd.getOptionValueSource(attribute) !== 'cli') continue;
    // --preset <name> and --no-preset share one commander attribute: false is the negation's
    if (f.flag.startsWith('--no-') !== (values[attribute] === false)) continue;
    const [group, key] = splitPath(f.path);
    (given.groups[group] ??= {})[key] = f.value ? f.value(values[attribute]) : values[attribute];
    given.sources.set(f.path, f.flag.split(' ')[0]);
  }
  return given;
}

/** `base` (e.g. a config file's options) overridden by `over` (the flags). */
export function mergeGiven(base: GivenOptions, over: GivenOptions): GivenOptions {
  const groups: GivenOptions['groups'] = { ...base.groups };
  for (const [group, values] of Object.entries(over.groups) as [Group, Record<string, unknown>][]) groups[group] = { ...groups[group], ...values };
  return { groups, sources: new Map([...base.sources, ...over.sources]) };
}

/**
 * A library message in the command line's terms: each key path of the command's table (or of
 * `sources`) becomes what set it (a flag, or a config file's entry), else the flag that would.
 */
export function inUserTerms(message: string, flags: readonly Flag[], sources: Map<string, string> = new Map()): string {
  const names = new Map<string, string>();
  for (const f of flags) if (!names.has(f.path)) names.set(f.path, f.flag.split(' ')[0]);
  for (const [path, source] of sources) names.set(path, source);
  // Longest paths first, so that distill.lr never eats the start of distill.lrImg.
  const paths = [...names.keys()].sort((a, b) => b.length - a.length).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (paths.length === 0) return message;
  const pattern = new RegExp(`(?<![\\w.\\-/])(${paths.join('|')})(?![\\w])`, 'g');
  return message.replace(pattern, (path) => names.get(path) ?? path);
}

/** Runs a command's action with its errors in the user's terms. */
export async function inUserTermsOnError(flags: readonly Flag[], sources: Map<string, string>, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (e instanceof Error) e.message = inUserTerms(e.message, flags, sources);
    throw e;
  }
}
