/**
 * The size of a synthetic set, checked before it is allocated: ipc x classes images are held on the
 * device with their momentum buffer and gradient, and once on the host when they are made or saved.
 * A set that cannot fit is refused naming ipc, instead of failing deep inside an allocation
 * ("Invalid typed array length") or after the machine starts to swap.
 */
import * as os from 'os';
import { TrajmatchInputError } from '../errors';
import { gib, MAX_TYPED_ELEMENTS } from '../util/limits';

/** Copies of the set a run holds at once: pixels, their momentum buffer, their gradient, the host copy. */
const COPIES = 4;

/** Throws a TrajmatchInputError naming ipc when `ipc` images of each class of `shape` [S, C, H, W] cannot be held. */
export function checkSyntheticSetFits(ipc: number, numClasses: number, shape: number[], totalMemory: number = os.totalmem()): void {
  const perImage = shape.slice(1).reduce((a, b) => a * b, 1);
  const elements = ipc * numClasses * perImage;
  const bytes = elements * 4;
  const what = `ipc ${ipc} makes a synthetic set of ${ipc} x ${numClasses} classes = ${ipc * numClasses} images of ${shape.slice(1).join('x')}, ${gib(bytes)} of float32 pixels`;
  if (elements > MAX_TYPED_ELEMENTS) throw new TrajmatchInputError(`${what}: more than one tensor can hold here (${MAX_TYPED_ELEMENTS} values); lower ipc`);
  if (bytes * COPIES > totalMemory) {
    throw new TrajmatchInputError(`${what}, held ${COPIES} times during a run: more than this machine's ${gib(totalMemory)} of memory; lower ipc`);
  }
}
