/** Atomic writes: a crash never leaves a half-written file that a later run would trust. */
import * as fs from 'fs';
import * as path from 'path';
import writeFileAtomic from 'write-file-atomic';
import { TrajmatchInputError } from '../errors';
import { folderProblem } from './output-path';

/**
 * Writes to a temporary file beside the target, fsyncs, then renames over it. A file that cannot be
 * written is a TrajmatchInputError naming it and why (a part of its path is a file, permissions).
 */
export async function writeAtomic(file: string, data: string | Buffer | Uint8Array): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  try {
    await fs.promises.mkdir(dir, { recursive: true });
    await writeFileAtomic(file, data as string | Buffer);
  } catch (e) {
    // a path the user chose that cannot hold the file; other failures (a full disk) stay as they are
    const problem = (await isFolder(file)) ? 'it is a folder' : folderProblem(dir)?.replace(/^it is a file,/, `${dir} is a file,`);
    if (problem === undefined || problem === null) throw e;
    throw new TrajmatchInputError(`cannot write ${file}: ${problem}`, { cause: e });
  }
}

async function isFolder(p: string): Promise<boolean> {
  return fs.promises.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
