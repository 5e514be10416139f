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
