/** JSON config files of the CLI: the same options as the library API, grouped by step. */
import * as fs from 'fs';
import { z } from 'zod';
import { parseOptions } from '../config/validate';
import { TrajmatchInputError } from '../errors';
import { DatasetOptions } from '../data/dataset';
import { NetworkOptions } from '../model/convnet';
import { BufferOptions } from '../trajectory/buffer';
import { DistillOptions } from '../distill/options';

const configSchema = z.strictObject({
  data: z.record(z.string(), z.unknown()).optional(),
  network: z.record(z.string(), z.unknown()).optional(),
  buffer: z.record(z.string(), z.unknown()).optional(),
  distill: z.record(z.string(), z.unknown()).optional(),
});

export interface ConfigFile {
  data?: DatasetOptions;
  network?: NetworkOptions;
  buffer?: BufferOptions;
  distill?: DistillOptions;
}

/** Reads a config file; each group is validated later by its own step, with the file named here. */
export function readConfigFile(file: string): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TrajmatchInputError(`${file}: cannot read the config file (${(e as Error).message})`);
  }
  return parseOptions(configSchema, raw, file) as ConfigFile;
}
