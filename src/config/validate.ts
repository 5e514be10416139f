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

/**
 * Parses options with a zod schema; on failure throws one TrajmatchInputError listing every
 * problem, titled "Invalid <title>:".
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string, title = `${where} options`): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = optionName(where, issue.path);
    const received = issue.path.reduce<unknown>(
      (v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined),
      value,
    );
    if (issue.code === 'unrecognized_keys') return `unknown option(s) ${issue.keys.map((k) => optionName(where, [...issue.path, k])).join(', ')}`;
    return `${name}: ${issue.message} (received ${describe(received)})`;
  });
  throw new TrajmatchInputError(`Invalid ${title}:\n  ${problems.join('\n  ')}`);
}
