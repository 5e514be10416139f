/**
 * Where a command's output goes. Without --json: progress and log lines on stderr (none with
 * --quiet), the result in lines on stdout. With --json: stdout carries JSON lines only, one per
 * event, `{"event": name, ...fields}`, where name and fields are those of the library's onEvent
 * hooks (the event's `type`, prefixed by its step where a job nests it: distill.iteration,
 * buffer.epoch), then one `result` event; a failure is one `error` event and a non-zero exit.
 * stderr stays empty unless --verbose asks for the progress lines there.
 */
import { openScreen, Screen, wrap } from './progress';

export interface Output {
  readonly json: boolean;
  /** Progress and log lines for people (stderr). */
  readonly screen: Screen;
  /** One library event (`type` and fields; `prefix` names its step): a JSON line with --json, nothing otherwise (the command shows it on the screen). */
  event(e: { type: string } & Record<string, unknown>, prefix?: string): void;
  /** The command's result: its JSON line with --json, else `human()` (lines on stdout). */
  result(fields: object, human: () => void): void;
  /** A line of the human result on stdout, wrapped at spaces to a terminal's width (the terminal would break words). */
  print(line: string): void;
  /** Ends the screen. */
  close(): void;
}

/** The output of a command given its output flags (quiet, json, verbose); `silent` for ranks other than 0. */
export function openOutput(flags: Record<string, unknown> | undefined, silent = false): Output {
  const json = Boolean(flags?.json);
  const screen = openScreen(!silent && !flags?.quiet && (!json || Boolean(flags?.verbose)));
  return {
    json,
    screen,
    event(e, prefix) {
      if (json && !silent) writeJsonLine(eventFields(e, prefix));
    },
    result(fields, human) {
      if (silent) return;
      if (json) writeJsonLine({ event: 'result', ...fields });
      else human();
    },
    print(line) {
      const lines = process.stdout.isTTY ? wrap(line, Math.max(20, (process.stdout.columns || 80) - 1)) : [line];
      for (const l of lines) process.stdout.write(`${l}\n`);
    },
    close: () => screen.close(),
  };
}

/** A library event as a JSON line's fields: `type` becomes `event`, a nested `event` (a job's step) is flattened into `step.type`. */
export function eventFields(e: { type: string }, prefix = ''): { event: string } & Record<string, unknown> {
  const { type, ...rest } = e as { type: string } & Record<string, unknown>;
  const inner = rest.event as { type?: unknown } | undefined;
  if (inner && typeof inner === 'object' && typeof inner.type === 'string' && Object.keys(rest).length === 1) {
    return eventFields(inner as { type: string }, `${prefix}${type}.`);
  }
  return { event: `${prefix}${type}`, ...rest };
}

export function writeJsonLine(value: object): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** True when the command line asks for --json (before a `--`): read before commander parses it, so that its own errors come out as JSON too. */
export function jsonRequested(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * The error event of a failure: name, message, the option and file it is about when known (an
 * error's own `option`/`file` properties, else the flag its message starts with or names as
 * commander does), the error's other plain properties (iteration, runDir, operation, code...)
 * and the exit code.
 */
export function errorFields(e: unknown, exitCode: number): { event: 'error'; error: Record<string, unknown> } {
  const err = e instanceof Error ? e : new Error(String(e));
  const error: Record<string, unknown> = { name: err.name, message: err.message };
  for (const [k, v] of Object.entries(err)) {
    if (k === 'stack' || k === 'cause' || k === 'nestedError') continue;
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) error[k] = v;
  }
  if (error.option === undefined) {
    // commander's "option '--lr-img <lr>' argument ..." or "unknown option '--x'"; ours "--ipc: ..." (at the start of a line)
    const m = /^(?:error: )?(?:option '|unknown option ')(--[a-z][\w-]*)/.exec(err.message) ?? /^\s*(--[a-z][\w-]*):/m.exec(err.message);
    if (m) error.option = m[1];
  }
  error.exitCode = exitCode;
  return { event: 'error', error };
}
