/** Zip archives made by the tests: a fake prebuilt libtorch, and plain zips of files. */
import { ZipFile } from 'yazl';
import { randomBytes } from '../data/fixtures';

export interface ZipEntry {
  name: string;
  data?: Buffer;
  /** A symbolic link to this target instead of a file. */
  link?: string;
  mode?: number;
}

export function makeZip(entries: ZipEntry[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const e of entries) {
    if (e.link !== undefined) zip.addBuffer(Buffer.from(e.link), e.name, { mode: 0o120777 });
    else zip.addBuffer(e.data ?? Buffer.alloc(0), e.name, { mode: e.mode ?? 0o100644 });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => parts.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    zip.outputStream.on('error', reject);
  });
}

/**
 * The layout of PyTorch's libtorch zip, with stand-in files: CMake package, libraries (with the
 * versioned-name link of a real install), the headers the build checks for, build-version.
 * Big enough (`padding` bytes of noise in a library) that cutting the transfer half way means something.
 */
export function fakeLibtorchZip(opts: { version?: string; cuda?: boolean; abi?: 0 | 1; omit?: string[]; padding?: number } = {}): Promise<Buffer> {
  const { version = '2.6.0', cuda = false, abi = 1, omit = [], padding = 1 << 20 } = opts;
  const text = (s: string) => Buffer.from(s);
  const entries: ZipEntry[] = [
    { name: 'libtorch/build-version', data: text(`${version}+${cuda ? 'cu126' : 'cpu'}\n`) },
    { name: 'libtorch/share/cmake/Torch/TorchConfigVersion.cmake', data: text(`set(PACKAGE_VERSION "${version}")\n`) },
    { name: 'libtorch/share/cmake/Torch/TorchConfig.cmake', data: text(`set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${abi}")\n`) },
    { name: 'libtorch/include/torch/csrc/api/include/torch/torch.h', data: text('#pragma once\n') },
    { name: 'libtorch/lib/libc10.so', data: Buffer.from(randomBytes(padding, 7)), mode: 0o100755 },
    { name: 'libtorch/lib/libtorch_cpu.so', data: text('ELF'), mode: 0o100755 },
    { name: 'libtorch/lib/libtorch.so.2', data: text('ELF'), mode: 0o100755 },
    { name: 'libtorch/lib/libtorch.so', link: 'libtorch.so.2' },
  ];
  if (cuda) entries.push({ name: 'libtorch/lib/libtorch_cuda.so', data: text('ELF'), mode: 0o100755 });
  return makeZip(entries.filter((e) => !omit.includes(e.name)));
}
