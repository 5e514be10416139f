/** Option validation with messages that name the option, what was expected and what was received. */
import { z } from 'zod';
import { describe, TrajmatchInputError } from '../errors';

/** Parses options with a zod schema; on failure throws one TrajmatchInputError listing every problem. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = [where, ...issue.path.map(String)].join('.');
    const received = issue.path.reduce<unknown>(
      (v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined),
      value,
    );
    if (issue.code === 'unrecognized_keys') return `${name}: unknown option(s) ${issue.keys.join(', ')}`;
    return `${name}: ${issue.message} (received ${describe(received)})`;
  });
  throw new TrajmatchInputError(`Invalid ${where} options:\n  ${problems.join('\n  ')}`);
}
