/** Reading the wanted members of a .tar.gz (as the CIFAR archives are downloaded) into memory. */
import * as fs from 'fs';
import * as path from 'path';
import { Parser, ReadEntry } from 'tar';
import { DatasetError } from './files';

/**
 * The members of a gzipped tar archive whose base name `wanted` accepts, keyed by base name.
 * A corrupt or truncated archive is a DatasetError naming it.
 */
export async function readTarMembers(archive: string, wanted: (name: string) => boolean): Promise<Map<string, Buffer>> {
  if (!fs.existsSync(archive)) throw new DatasetError(`${archive}: file not found`);
  const members = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error) => reject(new DatasetError(`${archive}: corrupt or truncated archive (${e.message})`, { cause: e }));
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const name = path.basename(entry.path);
        if (entry.type !== 'File' || !wanted(name)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => members.set(name, Buffer.concat(chunks)));
      },
    });
    parser.on('error', fail);
    parser.on('warn', (_code: string, message: string | Error) => fail(message instanceof Error ? message : new Error(message)));
    parser.on('end', () => resolve());
    const stream = fs.createReadStream(archive);
    stream.on('error', fail);
    stream.pipe(parser);
  });
  return members;
}
