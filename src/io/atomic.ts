/** Atomic writes: a crash never leaves a half-written file that a later run would trust. */
import * as fs from 'fs';
import * as path from 'path';
import writeFileAtomic from 'write-file-atomic';

/** Writes to a temporary file beside the target, fsyncs, then renames over it. */
export async function writeAtomic(file: string, data: string | Buffer | Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomic(file, data as string | Buffer);
}
