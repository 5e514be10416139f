/** File access for the dataset readers: every failure names the file and what is wrong. */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { TrajmatchInputError } from '../errors';

/** A dataset file is missing, unreadable or malformed. */
export class DatasetError extends TrajmatchInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
  }
}

/** The contents of a file; a missing or unreadable file is a DatasetError naming it. */
export function readFileBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, expected a file' : (e as Error).message;
    throw new DatasetError(`${file}: ${why}`, { cause: e });
  }
}

/** Gunzips when the bytes start with the gzip magic number; a corrupt or truncated stream names the file. */
export function maybeGunzip(bytes: Buffer, file: string): Buffer {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return zlib.gunzipSync(bytes);
  } catch (e) {
    throw new DatasetError(`${file}: corrupt or truncated gzip data (${(e as Error).message})`, { cause: e });
  }
}

/** The first of several candidate names that exists in a folder, or a DatasetError listing them all. */
export function findFile(dir: string, candidates: string[], what: string): string {
  for (const name of candidates) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  throw new DatasetError(`${dir}: ${what} not found (looked for ${candidates.join(', ')})`);
}

/** True for an existing folder. */
export function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Non-empty, trimmed lines of a text file (class-name lists). */
export function readLines(file: string): string[] {
  return readFileBytes(file)
    .toString('utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
