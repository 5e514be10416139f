/** Device selection: "auto" means CUDA when this libtorch and machine have it, else the CPU. */
import { TrajmatchInputError } from '../errors';
import { BackendInfo, native } from '../native';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;

/** Facts about the libtorch the addon was built against and the devices it sees. */
export function backendInfo(): BackendInfo {
  return native().backendInfo();
}

/**
 * The device name ("cpu" or "cuda:N") for a request. Throws TrajmatchInputError when the request is
 * malformed, or asks for CUDA on a build or machine without it. `option` names the setting in messages.
 */
export function resolveDevice(request: string = 'auto', option = 'device'): string {
  if (typeof request !== 'string') {
    throw new TrajmatchInputError(`Expected 'auto', 'cpu', 'cuda' or 'cuda:N' for ${option} but received ${typeof request}`);
  }
  if (request === 'auto') return native().backendInfo().cudaAvailable ? 'cuda:0' : 'cpu';
  try {
    return native().parseDevice(request);
  } catch (e) {
    throw new TrajmatchInputError(`${option}: ${(e as Error).message}`, { cause: e });
  }
}
