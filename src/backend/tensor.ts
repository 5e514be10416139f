/** Creating tensor handles from host data, with the checks users need to see in JS terms. */
import * as engine from '../engine';
import { expected, TrajmatchInputError } from '../errors';
import { DType, HostArray, Tensor } from '../native';
import { handleDevice } from './device';

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'int64', 'uint8', 'int8', 'int16', 'bool', 'float16', 'bfloat16'];

export interface TensorOptions {
  /** Element type of the tensor; defaults to that of the typed array. */
  dtype?: DType;
  /** 'auto' | 'cpu' | 'cuda' | 'cuda:N'; defaults to 'cpu'. */
  device?: string;
}

/**
 * Copies host values into a new tensor handle of the given shape. The typed array's length must be
 * the product of the shape.
 */
export function tensor(values: HostArray, shape: readonly number[], options: TensorOptions = {}): Tensor {
  if (!ArrayBuffer.isView(values) || values instanceof DataView) throw expected('values', 'a typed array', values);
  if (!isShape(shape)) throw expected('shape', 'an array of non-negative integers', shape);
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel !== values.length) {
    throw new TrajmatchInputError(`values: shape [${shape.join(', ')}] needs ${numel} values but the ${values.constructor.name} holds ${values.length}`);
  }
  if (options.dtype !== undefined && !DTYPES.includes(options.dtype)) {
    throw expected('dtype', `one of ${DTYPES.join(', ')}`, options.dtype);
  }
  return engine.tensor(values, [...shape], { dtype: options.dtype, device: handleDevice(options.device) });
}

function isShape(value: unknown): value is readonly number[] {
  return Array.isArray(value) && value.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0);
}

/** Handles currently alive in the engine (created and not yet disposed or collected): for leak checks. */
export function liveTensorCount(): number {
  return engine.liveTensorCount();
}

/** Disposes every handle given, ignoring ones already disposed. */
export function disposeAll(...tensors: (Tensor | undefined)[]): void {
  for (const t of tensors) if (t && !t.disposed) t.dispose();
}

/** The rows of a tensor at the given indices, as a new tensor on its device. */
export function indexSelect(t: Tensor, indices: readonly number[]): Tensor {
  return engine.indexSelect(t, [...indices]);
}
