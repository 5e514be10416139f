/** Option validation with messages that name the option, what was expected and what was received. */
import { z } from 'zod';
import { describe, TrajmatchInputError } from '../errors';

/**
 * How an option is named in messages: its key path, e.g. "data.zcaEps" (`where` "data", path
 * ["zcaEps"]). The library never names command-line flags; the CLI maps key paths to its flags.
 */
export function optionName(where: string, path: readonly PropertyKey[]): string {
  return [where, ...path.map(String)].filter((part) => part !== '').join('.');
}

/** Invalid options: `problems` has one line per failing option, each starting with its key path. */
export class OptionsError extends TrajmatchInputError {
  constructor(
    title: string,
    readonly problems: string[],
  ) {
    super(`Invalid ${title}:\n  ${problems.join('\n  ')}`);
  }
}

/** The problems of `value` against `schema`, one line per option, named by key path. */
function problemsOf(error: z.ZodError, value: unknown, where: string): string[] {
  return error.issues.map((issue) => {
    const name = optionName(where, issue.path);
    const received = issue.path.reduce<unknown>(
      (v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined),
      value,
    );
    if (issue.code === 'unrecognized_keys') return `unknown option(s) ${issue.keys.map((k) => optionName(where, [...issue.path, k])).join(', ')}`;
    return `${name}: ${issue.message} (received ${describe(received)})`;
  });
}

/**
 * Parses options with a zod schema; on failure throws one OptionsError listing every problem,
 * titled "Invalid <title>:".
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string, title = `${where} options`): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new OptionsError(title, problemsOf(result.error, value, where));
}

/**
 * Runs the checks of several option groups and throws one OptionsError listing the problems of
 * every failing group (not only the first). Each check's own input errors are kept as lines.
 */
export function checkOptionGroups<T extends readonly (() => unknown)[]>(checks: T, title = 'options'): { [K in keyof T]: ReturnType<T[K]> } {
  const problems: string[] = [];
  const results = checks.map((check) => {
    try {
      return check();
    } catch (e) {
      if (e instanceof OptionsError) problems.push(...e.problems);
      else if (e instanceof TrajmatchInputError) problems.push(e.message);
      else throw e;
      return undefined;
    }
  });
  if (problems.length > 0) throw new OptionsError(title, problems);
  return results as { [K in keyof T]: ReturnType<T[K]> };
}
