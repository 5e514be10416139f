/** Device selection: "auto" means CUDA when this libtorch and machine have it, else the CPU. */
import * as engine from '../engine';
import { TrajmatchInputError, TrajmatchNativeError } from '../errors';
import { BackendInfo } from '../native';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;

/** The device of a job unless told: CUDA when there is one. */
export const DEFAULT_DEVICE = 'auto';

/** Facts about the libtorch the addon was built against and the devices it sees. */
export function backendInfo(): BackendInfo {
  return engine.backendInfo();
}

/**
 * The device name ("cpu" or "cuda:N") for a request. Throws TrajmatchInputError when the request is
 * malformed, or asks for CUDA on a build or machine without it. `option` names the setting in messages.
 */
export function resolveDevice(request: string = DEFAULT_DEVICE, option = 'device'): string {
  if (typeof request !== 'string') {
    throw new TrajmatchInputError(`Expected 'auto', 'cpu', 'cuda' or 'cuda:N' for ${option} but received ${typeof request}`);
  }
  if (request === 'auto') return engine.backendInfo().cudaAvailable ? 'cuda:0' : 'cpu';
  try {
    return engine.parseDevice(request);
  } catch (e) {
    if (e instanceof TrajmatchNativeError) throw new TrajmatchInputError(`${option}: ${e.detail}`, { cause: e });
    throw e;
  }
}

/** The device of a new handle (a tensor, a network): the CPU unless one is asked for. */
export function handleDevice(request?: string, option = 'device'): string {
  return resolveDevice(request ?? 'cpu', option);
}
