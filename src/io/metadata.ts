/** JSON entries of a safetensors file's metadata, checked with a schema: errors name the file, the entry and what is wrong. */
import { z } from 'zod';
import { parseOptions } from '../config/validate';
import { SafetensorsError } from './safetensors';

/**
 * The value of the JSON entry `key` of a file's metadata, checked against `schema`. `what` says
 * what the file is not when the entry is missing or wrong (e.g. "not a trajmatch expert file").
 */
export function metadataJson<S extends z.ZodType>(metadata: Record<string, string>, key: string, schema: S, file: string, what: string): z.output<S> {
  const text = metadata[key];
  if (text === undefined) throw new SafetensorsError(`${file}: ${what} (its metadata has no ${key} entry)`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${file}: ${what} (its ${key} metadata is not JSON: ${(e as Error).message})`);
  }
  try {
    return parseOptions(schema, raw, key, `${key} metadata`);
  } catch (e) {
    throw new SafetensorsError(`${file}: ${what}: ${(e as Error).message}`);
  }
}
