/**
 * Errors that users see. Every message says what is wrong and where (option, file, argument),
 * with the expected and the received value when there is one.
 */

/** A value given by the user (an option, an argument, a file) is not acceptable. */
export class TrajmatchInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrajmatchInputError';
  }
}

/** The native engine reported an error (libtorch or an invariant of the binding). */
export class TrajmatchNativeError extends Error {
  /**
   * @param operation the native export (or handle method) that failed, e.g. "matchIteration"
   * @param detail the engine's own message
   */
  constructor(
    readonly operation: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation}: ${detail}`, options);
    this.name = 'TrajmatchNativeError';
  }
}

/** The native addon is missing or cannot be loaded. */
export class TrajmatchLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrajmatchLoadError';
  }
}

/** "Expected X for NAME but received Y": the shape of every validation message. */
export function expected(name: string, what: string, received: unknown): TrajmatchInputError {
  return new TrajmatchInputError(`Expected ${what} for ${name} but received ${describe(received)}`);
}

/** A short, readable rendering of a received value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) {
    const shown = value.slice(0, 8).map(describe).join(', ');
    return `[${shown}${value.length > 8 ? ', ...' : ''}]`;
  }
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length: number }).length})`;
  if (typeof value === 'object') return value.constructor?.name ? `a ${value.constructor.name}` : 'an object';
  return typeof value;
}

/** What was running when a job was aborted. */
export type InterruptedOperation = 'distill' | 'trainExperts' | 'evaluate' | 'bench';

/**
 * A long-running library call (runDistillJob, distillDataset, trainExperts, evaluateSet,
 * evaluateNetworks, runBench) was aborted through its AbortSignal. It rejects with this one error whether
 * the signal was aborted before the call or while it ran; the signal's reason is the `cause`.
 * Native calls are not cut short: the abort takes effect at the next step (an epoch, an iteration).
 */
export class TrajmatchInterrupted extends Error {
  constructor(
    /** The call that stopped. */
    readonly operation: InterruptedOperation,
    /**
     * Where it stopped: the distillation iteration its checkpoint resumes at (distill; null when it
     * stopped before distilling began, while loading the data or training its experts), the expert
     * being trained (trainExperts), or the network being trained (evaluate, 0-based).
     */
    readonly iteration: number | null,
    /** The run folder that resumes it (distill), the buffer folder that keeps the finished experts (trainExperts), the bench's output folder (bench), or null (evaluate). */
    readonly runDir: string | null,
    options?: { cause?: unknown },
  ) {
    super(interruptedMessage(operation, iteration, runDir), options);
    this.name = 'TrajmatchInterrupted';
  }
}

function interruptedMessage(operation: InterruptedOperation, iteration: number | null, runDir: string | null): string {
  if (operation === 'distill') {
    const at = iteration === null ? 'before distilling began' : `at iteration ${iteration}`;
    return `distillation interrupted ${at}; the run in ${runDir} resumes from its last checkpoint: run the same command again`;
  }
  if (operation === 'trainExperts') {
    return `expert training interrupted: finished experts are kept in ${runDir} (stopped at expert ${iteration}); run the same command again to resume`;
  }
  if (operation === 'bench') return `bench interrupted: the report so far, its unfinished sections marked partial, is in ${runDir}`;
  return `evaluation interrupted at network ${iteration}; nothing was kept`;
}

/**
 * Throws when `signal` is aborted: a TrajmatchInterrupted made by `interrupted`, or, when the signal
 * was aborted by the engine itself with a TrajmatchNativeError (another rank of a distributed run
 * failed), that error.
 */
export function throwIfInterrupted(signal: AbortSignal | undefined, interrupted: (cause: unknown) => TrajmatchInterrupted): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof TrajmatchNativeError || reason instanceof TrajmatchInterrupted) throw reason;
  throw interrupted(reason);
}

/**
 * A TrajmatchNativeError raised because a tensor was in use by another native call still in flight
 * (e.g. an SGD step on pixels a matchIteration is reading). Reads may overlap reads; a write
 * overlaps nothing. Await the other call first.
 */
export class TensorInUseError extends TrajmatchNativeError {
  constructor(operation: string, detail: string, options?: { cause?: unknown }) {
    super(operation, detail, options);
    this.name = 'TensorInUseError';
  }
}
