/**
 * The engine facade (as onnxruntime-node's lib/backend.ts): the only module that calls the native
 * addon. One wrapper per export, named as the export; a native error becomes a
 * TrajmatchNativeError labelled with that name (`convnetLayout: ...`; `Network.trainEpoch: ...` for
 * a method of a network handle) and thrown from the caller's stack, since errors settled on a
 * libuv thread carry no JS stack of their own. The wrappers pass arguments through unchanged:
 * validation and defaults belong to the modules above.
 */
import { TrajmatchInputError, TrajmatchLoadError, TrajmatchNativeError } from './errors';
import {
  BackendInfo,
  DType,
  HostArray,
  native,
  NativeAddon,
  NativeConvNetSpec,
  NativeEpochArgs,
  NativeNetwork,
  NativeNetworkSpec,
  NativeProcessGroup,
  ParamTensor,
  PassStats,
  PickledValue,
  Tensor,
  isTensorInUse,
  tensorInUseError,
} from './native';

type Fn = (...args: never[]) => unknown;
/** The names of the addon's functions (its classes excluded). */
type ExportName = { [K in keyof NativeAddon]: NativeAddon[K] extends Fn ? K : never }[keyof NativeAddon];
type Args<K extends ExportName> = Parameters<NativeAddon[K]>;
type Result<K extends ExportName> = ReturnType<NativeAddon[K]>;

function nativeError(operation: string, e: unknown): Error {
  if (e instanceof TrajmatchInputError || e instanceof TrajmatchLoadError) return e;
  // Duck-typed: errors thrown by the addon may come from another realm (jest's VM contexts).
  const message = typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e);
  // the binding marks a call refused because a tensor is in use by a call in flight (binding/in_flight.h)
  if (isTensorInUse(e)) return tensorInUseError(e);
  return new TrajmatchNativeError(operation, message, { cause: e });
}

/** Calls a synchronous export; its errors are labelled with its name. */
function call<K extends ExportName>(name: K, ...args: Args<K>): Result<K> {
  try {
    return (native()[name] as (...a: Args<K>) => Result<K>)(...args);
  } catch (e) {
    throw nativeError(name, e);
  }
}

/** Calls an asynchronous export; a rejection is labelled with its name and rethrown from here. */
async function callAsync<K extends ExportName>(name: K, ...args: Args<K>): Promise<Awaited<Result<K>>> {
  try {
    return await (native()[name] as (...a: Args<K>) => Result<K>)(...args);
  } catch (e) {
    throw nativeError(name, e);
  }
}

/** The same for a method of a handle. */
async function settle<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw nativeError(operation, e);
  }
}

function attempt<T>(operation: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    throw nativeError(operation, e);
  }
}

// backend
export const backendInfo = (): BackendInfo => call('backendInfo');
export const parseDevice = (name: string): string => call('parseDevice', name);
export const tensor = (values: HostArray, shape: number[], options: { dtype?: DType; device: string }): Tensor => call('tensor', values, shape, options);
export const liveTensorCount = (): number => call('liveTensorCount');
export const indexSelect = (t: Tensor, indices: number[]): Tensor => call('indexSelect', t, indices);
export const devicePeakBytes = (device: string, options?: { reset?: boolean }): number | null => call('devicePeakBytes', device, options);

// model
export const convnetLayout = (spec: NativeConvNetSpec): { numParams: number; tensors: ParamTensor[] } => call('convnetLayout', spec);
export const convnetInit = (spec: NativeConvNetSpec, options: { seed: number; dtype: DType; device: string }): Tensor => call('convnetInit', spec, options);
export const convnetForward = (spec: NativeConvNetSpec, images: Tensor, params: Tensor): Promise<Tensor> => callAsync('convnetForward', spec, images, params);

// augment
export const dsaApply = (...args: Args<'dsaApply'>) => callAsync('dsaApply', ...args);

// distill
export const matchIteration = (...args: Args<'matchIteration'>) => callAsync('matchIteration', ...args);
export const sgdStep = (...args: Args<'sgdStep'>): void => call('sgdStep', ...args);

// data
export const normalizeImages = (pixels: Tensor, mean: number[], std: number[]): Promise<Tensor> => callAsync('normalizeImages', pixels, mean, std);
export const zcaFit = (...args: Args<'zcaFit'>) => callAsync('zcaFit', ...args);
export const zcaWhiten = (...args: Args<'zcaWhiten'>) => callAsync('zcaWhiten', ...args);
export const zcaUnwhiten = (...args: Args<'zcaUnwhiten'>) => callAsync('zcaUnwhiten', ...args);

// train
export const liveNetworkCount = (): number => call('liveNetworkCount');

/** A network in the engine (ConvNet or a module of the zoo) with its momentum buffers. */
export class NetworkHandle {
  private constructor(private readonly handle: NativeNetwork) {}

  static async create(...args: Args<'createNetwork'>): Promise<NetworkHandle> {
    return new NetworkHandle(await callAsync('createNetwork', ...args));
  }

  get numParams(): number {
    return attempt('Network.numParams', () => this.handle.numParams);
  }

  get disposed(): boolean {
    return this.handle.disposed;
  }

  trainEpoch(args: NativeEpochArgs): Promise<PassStats> {
    return settle('Network.trainEpoch', () => this.handle.trainEpoch(args));
  }

  evaluate(args: { images: Tensor; labels: Tensor; batchSize: number }): Promise<PassStats> {
    return settle('Network.evaluate', () => this.handle.evaluate(args));
  }

  resetMomentum(): void {
    attempt('Network.resetMomentum', () => this.handle.resetMomentum());
  }

  parameters(): Tensor {
    return attempt('Network.parameters', () => this.handle.parameters());
  }

  dispose(): void {
    this.handle.dispose();
  }
}

// io
export const torchLoad = (file: string): Promise<PickledValue> => callAsync('torchLoad', file);
export const torchSave = (file: string, value: PickledValue): Promise<void> => callAsync('torchSave', file, value);

// distributed
export const distributedInfo = (): { c10d: boolean; gloo: boolean; nccl: boolean } => call('distributedInfo');

/** A process group of libtorch's c10d (the ProcessGroup ObjectWrap); its methods' errors are labelled `ProcessGroup.<method>`. */
export class ProcessGroupHandle {
  private constructor(private readonly handle: NativeProcessGroup) {}

  static async join(...args: Args<'processGroupJoin'>): Promise<ProcessGroupHandle> {
    return new ProcessGroupHandle(await callAsync('processGroupJoin', ...args));
  }

  get rank(): number {
    return this.handle.rank;
  }

  get worldSize(): number {
    return this.handle.worldSize;
  }

  get backend(): 'gloo' | 'nccl' {
    return this.handle.backend;
  }

  get device(): string {
    return this.handle.device;
  }

  get timeoutMs(): number {
    return this.handle.timeoutMs;
  }

  allReduceMean(tensors: Tensor[]): Promise<void> {
    return settle('ProcessGroup.allReduceMean', () => this.handle.allReduceMean(tensors));
  }

  broadcast(tensors: Tensor[], root: number): Promise<void> {
    return settle('ProcessGroup.broadcast', () => this.handle.broadcast(tensors, root));
  }

  barrier(): Promise<void> {
    return settle('ProcessGroup.barrier', () => this.handle.barrier());
  }

  join(name: string): Promise<void> {
    return settle('ProcessGroup.join', () => this.handle.join(name));
  }

  add(key: string, delta: number): Promise<number> {
    return settle('ProcessGroup.add', () => this.handle.add(key, delta));
  }

  allGather(key: string, value: string): Promise<string[]> {
    return settle('ProcessGroup.allGather', () => this.handle.allGather(key, value));
  }

  failure(): string | null {
    return attempt('ProcessGroup.failure', () => this.handle.failure());
  }

  tick(): void {
    attempt('ProcessGroup.tick', () => this.handle.tick());
  }

  fail(message: string): Promise<void> {
    return settle('ProcessGroup.fail', () => this.handle.fail(message));
  }

  close(): Promise<void> {
    return settle('ProcessGroup.close', () => this.handle.close());
  }
}

export type { NativeNetworkSpec };
