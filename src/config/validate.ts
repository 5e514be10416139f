/** Option validation with messages that name the option, what was expected and what was received. */
import { z } from 'zod';
import { describe, TrajmatchInputError } from '../errors';

/**
 * How an option is named in messages: `where.key` for the library API (e.g. "data.zcaEps"), and the
 * command-line flag when `where` is "cli" (e.g. "--zca-eps").
 */
export function optionName(where: string, path: readonly PropertyKey[]): string {
  if (where === 'cli' && path.length > 0) return `--${String(path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${path.slice(1).map((k) => `.${String(k)}`).join('')}`;
  return [where, ...path.map(String)].join('.');
}

/** Parses options with a zod schema; on failure throws one TrajmatchInputError listing every problem. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = optionName(where, issue.path);
    const received = issue.path.reduce<unknown>(
      (v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined),
      value,
    );
    if (issue.code === 'unrecognized_keys') return `unknown option(s) ${issue.keys.map((k) => optionName(where, [...issue.path, k])).join(', ')}`;
    return `${name}: ${issue.message} (received ${describe(received)})`;
  });
  throw new TrajmatchInputError(`Invalid ${where === 'cli' ? 'command-line' : where} options:\n  ${problems.join('\n  ')}`);
}
