import * as fs from 'fs';

/** Rewrites a safetensors file's header with its metadata changed by `edit` (the tensors' bytes untouched): corrupt files for tests. */
export function editMetadata(file: string, edit: (metadata: Record<string, string>) => void): void {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  header.__metadata__ ??= {};
  edit(header.__metadata__);
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(json), bytes.subarray(8 + n)]));
}
