/**
 * The typed loader of the native addon (build/Release/trajmatch.node) and the raw shape of what
 * it exports. Only src/engine.ts calls the addon; everything else talks to the engine through it.
 * Every argument is passed explicitly: the binding holds no defaults.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TensorInUseError, TrajmatchLoadError } from './errors';

export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'int16' | 'bool' | 'float16' | 'bfloat16';

export type HostArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array;

/** A tensor that lives in the engine (on the CPU or a CUDA device) until read back. */
export interface Tensor {
  readonly shape: number[];
  readonly dtype: DType;
  /** "cpu" or "cuda:N". */
  readonly device: string;
  readonly numel: number;
  readonly disposed: boolean;
  /** Copies the values to the host (float16/bfloat16 read back as Float32Array, bool as Uint8Array). */
  toArray(): HostArray;
  /** A copy on another device and/or of another dtype. */
  to(options: { device?: string; dtype?: DType }): Tensor;
  /** Frees the tensor now rather than at garbage collection; the handle is unusable afterwards. */
  dispose(): void;
  /** dispose(), for `using t = tensor(...)` (TypeScript 5.2+). */
  [Symbol.dispose](): void;
}

export interface BackendInfo {
  torchVersion: string;
  builtWithCuda: boolean;
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  cxx11Abi: boolean;
  threads: number;
  /** Whether the engine can report the CUDA allocator's peak (devicePeakBytes). */
  deviceMemoryStats: boolean;
  /** oneDNN, which libtorch uses for CPU convolutions: its version, whether the engine uses it, and why. */
  oneDnn: { version: string | null; enabled: boolean; reason: string };
  /** OpenBLAS's own threads where libtorch uses it (null: another BLAS): one unless OPENBLAS_NUM_THREADS is set, since libtorch parallelises its ops itself. */
  openBlas: { threads: number | null; reason: string };
  /** The engine's CPU allocator, which keeps freed blocks for reuse (TRAJMATCH_CPU_ALLOCATOR=system turns it off), and its counters. */
  cpuAllocator: CpuAllocatorInfo;
}

export interface CpuAllocatorInfo {
  enabled: boolean;
  reason: string;
  /** Bytes of freed blocks kept at most (TRAJMATCH_CPU_CACHE_MIB). */
  cacheLimit: number;
  cachedBytes: number;
  cachedBlocks: number;
  /** Allocations served from the kept blocks. */
  hits: number;
  /** Allocations of cached sizes that went to the system. */
  misses: number;
  evictions: number;
}

export interface NativeConvNetSpec {
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  netWidth: number;
  depth: number;
  norm: string;
  activation: string;
  pooling: string;
}

export interface ParamTensor {
  name: string;
  shape: number[];
  offset: number;
  numel: number;
}

export interface PassStats {
  /** mean cross-entropy */
  loss: number;
  /** top-1 accuracy in [0, 1] */
  accuracy: number;
  count: number;
}

/** What a network of the engine is: the functional ConvNet, or a module of the zoo. */
export type NativeNetworkSpec =
  ({ arch: 'convnet' } & NativeConvNetSpec) | { arch: 'alexnet' | 'vgg11' | 'resnet18'; channels: number; height: number; width: number; numClasses: number };

/** The settings of one training epoch, as the engine reads them. */
export interface NativeEpochArgs {
  images: Tensor;
  labels: Tensor;
  lr: number;
  momentum: number;
  weightDecay: number;
  batchSize: number;
  /** A DSA strategy for every batch; none when absent. */
  dsa?: string;
  seed: number;
}

/** A network in the engine, with its momentum buffers (the Network ObjectWrap). */
export interface NativeNetwork {
  readonly numParams: number;
  readonly disposed: boolean;
  trainEpoch(args: NativeEpochArgs): Promise<PassStats>;
  evaluate(args: { images: Tensor; labels: Tensor; batchSize: number }): Promise<PassStats>;
  resetMomentum(): void;
  parameters(): Tensor;
  dispose(): void;
}

/** A process group of a distributed run (see src/distributed/process-group.ts for the wrapper). */
export interface NativeProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: 'gloo' | 'nccl';
  readonly device: string;
  readonly timeoutMs: number;
  allReduceMean(tensors: Tensor[]): Promise<void>;
  broadcast(tensors: Tensor[], root: number): Promise<void>;
  barrier(): Promise<void>;
  join(name: string): Promise<void>;
  add(key: string, delta: number): Promise<number>;
  allGather(key: string, value: string): Promise<string[]>;
  failure(): string | null;
  tick(): void;
  fail(message: string): Promise<void>;
  close(): Promise<void>;
}

export interface NativeAddon {
  Tensor: new (...args: never[]) => Tensor;
  Network: new (...args: never[]) => NativeNetwork;
  backendInfo(): BackendInfo;
  parseDevice(name: string): string;
  tensor(values: HostArray, shape: number[], options: { dtype?: DType; device: string }): Tensor;
  liveTensorCount(): number;
  indexSelect(tensor: Tensor, indices: number[]): Tensor;
  devicePeakBytes(device: string, options?: { reset?: boolean }): number | null;
  convnetLayout(spec: NativeConvNetSpec): { numParams: number; tensors: ParamTensor[] };
  convnetInit(spec: NativeConvNetSpec, options: { seed: number; dtype: DType; device: string }): Tensor;
  convnetForward(spec: NativeConvNetSpec, images: Tensor, params: Tensor): Promise<Tensor>;
  dsaApply(images: Tensor, options: { strategy: string; seed: number; cotangent?: Tensor }): Promise<{ images: Tensor; grad?: Tensor }>;
  createNetwork(
    spec: NativeNetworkSpec,
    options: { seed: number; dtype: DType; device: string } | { params: Tensor; momentumBuffer?: Tensor },
  ): Promise<NativeNetwork>;
  liveNetworkCount(): number;
  matchIteration(
    spec: NativeConvNetSpec,
    inputs: {
      images: Tensor;
      labels: Tensor;
      start: Tensor;
      target: Tensor;
      lr: number;
      synSteps: number;
      batchSyn: number;
      dsa?: string;
      seed: number;
      method: string;
    },
  ): Promise<{ loss: number; gradImages: Tensor; gradLr: number }>;
  sgdStep(param: Tensor, grad: Tensor, buffer: Tensor, options: { lr: number; momentum: number }): void;
  normalizeImages(pixels: Tensor, mean: number[], std: number[]): Promise<Tensor>;
  zcaFit(images: Tensor, eps: number): Promise<{ mean: Tensor; whiten: Tensor; unwhiten: Tensor }>;
  zcaWhiten(images: Tensor, zca: { mean: Tensor; whiten: Tensor; unwhiten: Tensor }): Promise<Tensor>;
  zcaUnwhiten(images: Tensor, zca: { mean: Tensor; whiten: Tensor; unwhiten: Tensor }): Promise<Tensor>;
  torchLoad(file: string): Promise<PickledValue>;
  torchSave(file: string, value: PickledValue): Promise<void>;
  processGroupJoin(options: {
    rank: number;
    worldSize: number;
    masterAddr: string;
    masterPort: number;
    timeoutMs: number;
    backend: 'gloo' | 'nccl';
    device: string;
    agreed: [string, string][];
  }): Promise<NativeProcessGroup>;
  distributedInfo(): { c10d: boolean; gloo: boolean; nccl: boolean };
}

/**
 * The plain data of a torch.save file as torchLoad gives it: lists are arrays, tuples
 * {tuple: [...]}, dicts {dict: [[key, value], ...]}; tensors are Tensor handles.
 */
export type PickledValue = Tensor | number | string | boolean | null | PickledValue[] | { tuple: PickledValue[] } | { dict: [PickledValue, PickledValue][] };

const REQUIRED_EXPORTS = [
  'Tensor',
  'backendInfo',
  'parseDevice',
  'tensor',
  'liveTensorCount',
  'indexSelect',
  'devicePeakBytes',
  'convnetLayout',
  'convnetInit',
  'convnetForward',
  'dsaApply',
  'Network',
  'createNetwork',
  'liveNetworkCount',
  'matchIteration',
  'sgdStep',
  'normalizeImages',
  'zcaFit',
  'zcaWhiten',
  'zcaUnwhiten',
  'torchLoad',
  'torchSave',
  'processGroupJoin',
  'distributedInfo',
] as const satisfies readonly (keyof NativeAddon)[];

/** Where the addon may be: $TRAJMATCH_NATIVE, then the cmake-js build folders of this package. */
export function defaultAddonPaths(): string[] {
  const root = path.resolve(__dirname, '..');
  const paths = [path.join(root, 'build', 'Release', 'trajmatch.node'), path.join(root, 'build', 'Debug', 'trajmatch.node')];
  return process.env.TRAJMATCH_NATIVE ? [path.resolve(process.env.TRAJMATCH_NATIVE), ...paths] : paths;
}

/**
 * Loads the first addon that exists and loads; if none does, throws ONE error listing every
 * path tried, why each failed, and how to fix it.
 */
export function loadAddon(candidates: string[] = defaultAddonPaths()): NativeAddon {
  const tried: string[] = [];
  for (const file of candidates) {
    if (!fs.existsSync(file)) {
      tried.push(`${file}: not found`);
      continue;
    }
    let addon: Partial<NativeAddon>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      addon = require(file) as Partial<NativeAddon>;
    } catch (e) {
      tried.push(`${file}: cannot be loaded (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    const missing = REQUIRED_EXPORTS.filter((name) => !(name in addon));
    if (missing.length > 0) {
      tried.push(`${file}: built from another version of trajmatch (missing ${missing.join(', ')})`);
      continue;
    }
    // `using` calls Symbol.dispose: the handle classes are C++ ObjectWraps, so it is added here
    for (const cls of [addon.Tensor!, addon.Network!]) {
      const proto = cls.prototype as { dispose(): void };
      if (!Object.prototype.hasOwnProperty.call(proto, Symbol.dispose)) {
        Object.defineProperty(proto, Symbol.dispose, {
          value(this: { dispose(): void }) {
            this.dispose();
          },
          writable: true,
          configurable: true,
        });
      }
    }
    // The Tensor's own reads are called on the handle, not through engine.ts: their refusals get the same class here.
    // The addon is loaded once per process but this module may be loaded more than once (two copies of
    // trajmatch, a test runner's module registries): each wraps the native method anew, so that the
    // refusal is an instance of the TensorInUseError its caller imported.
    type Method = ((...args: unknown[]) => unknown) & { nativeMethod?: (...args: unknown[]) => unknown };
    const tensorProto = addon.Tensor!.prototype as Record<'toArray' | 'to', Method>;
    for (const method of ['toArray', 'to'] as const) {
      const nativeMethod = tensorProto[method].nativeMethod ?? tensorProto[method];
      const checked = function (this: unknown, ...args: unknown[]) {
        try {
          return nativeMethod.apply(this, args);
        } catch (e) {
          throw isTensorInUse(e) ? tensorInUseError(e) : e;
        }
      };
      Object.defineProperty(checked, 'nativeMethod', { value: nativeMethod });
      Object.defineProperty(tensorProto, method, { value: checked, writable: true, configurable: true });
    }
    return addon as NativeAddon;
  }
  throw new TrajmatchLoadError(
    [
      'trajmatch: the native addon could not be loaded.',
      'Tried:',
      ...tried.map((t) => `  - ${t}`),
      'Fix: run `npm run build:native` in the trajmatch package (binding.gyp.md explains how it finds libtorch).',
    ].join('\n'),
  );
}

/** Whether a native error is the binding's refusal of a tensor in use by a call in flight (binding/in_flight.h). */
export function isTensorInUse(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && e.code === 'ERR_TENSOR_IN_USE';
}

/** The binding's refusal ("call: cannot write role: ...") as a TensorInUseError labelled with the refused call. */
export function tensorInUseError(e: unknown): TensorInUseError {
  const message = String((e as { message?: unknown }).message);
  const colon = message.indexOf(': ');
  return new TensorInUseError(message.slice(0, colon), message.slice(colon + 2), { cause: e });
}

let cached: NativeAddon | undefined;

/** The addon of this package, loaded once. */
export function native(): NativeAddon {
  cached ??= loadAddon();
  return cached;
}
