/**
 * Where a run will write, checked before any work: a folder that cannot be created (a path under a
 * regular file), a file where a folder is needed or an unwritable folder would otherwise fail only
 * after minutes of training. Errors name the option and the path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TrajmatchInputError } from '../errors';

/** The deepest part of `abs` that exists (itself, or an ancestor), with its stat. */
function deepestExisting(abs: string): { at: string; stat: fs.Stats } {
  for (let at = abs; ; at = path.dirname(at)) {
    try {
      return { at, stat: fs.statSync(at) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a part of the path is a regular file; the walk up finds which
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(at) === at) throw e;
    }
  }
}

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why the folder `abs` cannot be created (if needed) and written in, or null if it can. */
export function folderProblem(abs: string): string | null {
  const { at, stat } = deepestExisting(abs);
  if (!stat.isDirectory()) return at === abs ? 'it is a file, not a folder' : `${at} is a file, not a folder`;
  if (!writable(at)) return at === abs ? 'permission denied' : `cannot create it in ${at} (permission denied)`;
  return null;
}

/** `option` names a folder the run will create (if needed) and write in: refused now if it cannot. */
export function checkOutputDir(dir: string, option: string): void {
  const problem = folderProblem(path.resolve(dir));
  if (problem) throw new TrajmatchInputError(`${option}: cannot write in the folder ${dir}: ${problem}`);
}
