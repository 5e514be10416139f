import * as fs from 'fs';
import * as path from 'path';
import { readSyntheticSet, SyntheticInfo, writeSyntheticSet } from '../../src/synthetic/file';
import { tempDir } from '../data/fixtures';
import { editMetadata } from '../io/edit-metadata';

// A synthetic set file with corrupt metadata: the error names the file, the entry and what is wrong.
const root = tempDir('corrupt-synthetic');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const info: SyntheticInfo = { dataset: 'mnist', ipc: 1, classNames: ['a', 'b'], channels: 1, height: 2, width: 2, zca: false, method: 'mct' };
let n = 0;
async function setFile(): Promise<string> {
  const file = path.join(root, `set${n++}.safetensors`);
  await writeSyntheticSet(file, { images: new Float32Array(8), labels: Int32Array.of(0, 1), lr: 0.01, info });
  return file;
}
// sync or async, the same check
const read = async (file: string) => readSyntheticSet(file);

test.each([
  ['missing', (m: Record<string, string>) => delete m.trajmatch_synthetic, /its metadata has no trajmatch_synthetic entry/],
  ['not JSON', (m: Record<string, string>) => (m.trajmatch_synthetic = '{"dataset":'), /its trajmatch_synthetic metadata is not JSON/],
  [
    'ipc "one"',
    (m: Record<string, string>) => (m.trajmatch_synthetic = JSON.stringify({ ...info, ipc: 'one' })),
    /trajmatch_synthetic\.ipc: .*\(received "one"\)/,
  ],
  ['no method', (m: Record<string, string>) => (m.trajmatch_synthetic = JSON.stringify({ ...info, method: undefined })), /trajmatch_synthetic\.method: /],
])('trajmatch_synthetic %s', async (_name, edit, message) => {
  const file = await setFile();
  await expect(read(file)).resolves.toMatchObject({ info });
  editMetadata(file, edit);
  const err = (await read(file).catch((e: Error) => e)) as Error;
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toContain(file);
  expect(err.message).toMatch(message);
  expect(err.message).not.toMatch(/SyntaxError/);
});
