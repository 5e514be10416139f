/** JSON config files of the CLI: the same options as the library API, grouped by step. */
import * as fs from 'fs';
import { z } from 'zod';
import { parseOptions } from '../config/validate';
import { TrajmatchInputError } from '../errors';
import { GivenOptions, GROUP_SCHEMAS } from './flags';

const { data, network, buffer, distill } = GROUP_SCHEMAS;
const configSchema = z.strictObject({
  data: data.optional(),
  network: network.optional(),
  buffer: buffer.optional(),
  distill: distill.optional(),
});

/**
 * Reads a config file, checked against the library's own schemas: every problem of every group is
 * listed at once, named by its key path in the file. The values come back as written (no
 * defaults filled in), with their source ("file: distill.lrImg").
 */
export function readConfigFile(file: string): GivenOptions {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TrajmatchInputError(`${file}: cannot read the config file (${(e as Error).message})`);
  }
  parseOptions(configSchema, raw, '', `options in the config file ${file}`);
  const groups = raw as Record<string, Record<string, unknown>>;
  const sources = new Map<string, string>();
  for (const [group, values] of Object.entries(groups)) for (const key of Object.keys(values)) sources.set(`${group}.${key}`, `${file}: ${group}.${key}`);
  return { groups, sources };
}
