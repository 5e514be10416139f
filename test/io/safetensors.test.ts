import * as fs from 'fs';
import * as path from 'path';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  requireTensor,
  tensorValues,
  writeSafetensors,
} from '../../src/io/safetensors';
import { tempDir } from '../data/fixtures';

const dir = tempDir('safetensors');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('safetensors', () => {
  const tensors = {
    weights: { values: Float32Array.from([1.5, -2, 3.25, 4, 5, 6]), shape: [2, 3] },
    doubles: { values: Float64Array.from([Math.PI]), shape: [] as number[] },
    labels: { values: BigInt64Array.from([1n, -2n, 3n]), shape: [3] },
    ints: { values: Int32Array.from([7, 8]), shape: [2, 1] },
    bytes: { values: Uint8Array.from([255, 0, 1]), shape: [3] },
    flags: { values: Uint8Array.from([1, 0]), shape: [2], dtype: 'BOOL' as const },
  };

  test('the header follows the published format: u64 LE length, JSON, dtype names, offsets, 8-byte padding', () => {
    const bytes = encodeSafetensors(tensors, { format: 'test', note: 'hello' });
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header.__metadata__).toEqual({ format: 'test', note: 'hello' });
    expect(header.weights).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header.doubles).toEqual({ dtype: 'F64', shape: [], data_offsets: [24, 32] });
    expect(header.labels).toEqual({ dtype: 'I64', shape: [3], data_offsets: [32, 56] });
    expect(header.ints.dtype).toBe('I32');
    expect(header.bytes.dtype).toBe('U8');
    expect(header.flags.dtype).toBe('BOOL');
    expect(bytes.length).toBe(8 + n + 24 + 8 + 24 + 8 + 3 + 2);
    // raw little-endian data at the offsets
    expect(bytes.readFloatLE(8 + n + 4)).toBe(-2);
    expect(bytes.readBigInt64LE(8 + n + 32 + 8)).toBe(-2n);
  });

  test('files round-trip values, shapes and metadata', async () => {
    const file = path.join(dir, 'round.safetensors');
    await writeSafetensors(file, tensors, { a: '1' });
    const content = readSafetensors(file);
    expect(content.metadata).toEqual({ a: '1' });
    expect(Array.from(requireTensor(content, 'weights', file, 'F32', 2).values as Float32Array)).toEqual([1.5, -2, 3.25, 4, 5, 6]);
    expect(Array.from(requireTensor(content, 'labels', file, 'I64', 1).values as BigInt64Array)).toEqual([1n, -2n, 3n]);
    expect((requireTensor(content, 'doubles', file, 'F64', 0).values as Float64Array)[0]).toBe(Math.PI);
    expect(Array.from(tensorValues(content.tensors.get('flags')!, 'flags', file, 'BOOL') as Uint8Array)).toEqual([1, 0]);
    expect(content.tensors.get('ints')!.shape).toEqual([2, 1]);
  });

  test('the header alone gives metadata and shapes, and still catches a truncated file', async () => {
    const file = path.join(dir, 'header.safetensors');
    await writeSafetensors(file, tensors, { a: '1' });
    const h = readSafetensorsHeader(file);
    expect(h.metadata).toEqual({ a: '1' });
    expect(h.shapes.get('weights')).toEqual({ dtype: 'F32', shape: [2, 3] });
    const cut = path.join(dir, 'cut.safetensors');
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, fs.statSync(file).size - 3));
    expect(() => readSafetensorsHeader(cut)).toThrow(
      /cut\.safetensors: not a valid safetensors file: tensor (bytes|flags) ends at byte \d+ of a \d+-byte data section \(truncated\?\)/,
    );
    expect(() => readSafetensorsHeader(path.join(dir, 'none.safetensors'))).toThrow(/none\.safetensors: file not found/);
  });

  describe('corrupt files are errors naming the file and the problem', () => {
    const good = encodeSafetensors(tensors);
    const n = Number(good.readBigUInt64LE(0));
    const withHeader = (h: object) => {
      let json = JSON.stringify(h);
      json += ' '.repeat((8 - (json.length % 8)) % 8);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([len, Buffer.from(json), good.subarray(8 + n)]);
    };
    const header = JSON.parse(good.subarray(8, 8 + n).toString());

    test.each([
      ['too short', good.subarray(0, 5), /5 bytes is too short/],
      ['truncated data', good.subarray(0, good.length - 10), /ends at byte .* \(truncated\?\)/],
      ['truncated header', good.subarray(0, 20), /the header length field says \d+ bytes but only 12 bytes follow it \(a 20-byte file; truncated\?\)/],
      [
        'a header length equal to the file size',
        Buffer.concat([
          (() => {
            const b = Buffer.alloc(8);
            b.writeBigUInt64LE(16n);
            return b;
          })(),
          Buffer.from('{}      '),
        ]),
        /the header length field says 16 bytes but only 8 bytes follow it \(a 16-byte file/,
      ],
      ['a null __metadata__', withHeader({ ...header, __metadata__: null }), /__metadata__ must be an object of string values, received null/],
      [
        'a __metadata__ that is a string',
        withHeader({ ...header, __metadata__: 'x' }),
        /__metadata__ must be an object of string values, received the string "x"/,
      ],
      ['a __metadata__ that is an array', withHeader({ ...header, __metadata__: ['a'] }), /__metadata__ must be an object of string values, received an array/],
      ['a metadata value that is not a string', withHeader({ ...header, __metadata__: { a: 1 } }), /metadata value a is not a string/],
      ['a null tensor entry', withHeader({ ...header, extra: null }), /tensor extra must be an object with dtype, shape and data_offsets, received null/],
      [
        'a tensor entry that is a number',
        withHeader({ ...header, extra: 3 }),
        /tensor extra must be an object with dtype, shape and data_offsets, received a number/,
      ],
      ['a header that is not JSON', Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{nope!!}')]), /the header is not JSON/],
      ['an unknown dtype', withHeader({ ...header, ints: { ...header.ints, dtype: 'Q7' } }), /tensor ints has unknown dtype "Q7"/],
      [
        'a size that does not match the shape',
        withHeader({ ...header, weights: { ...header.weights, shape: [2, 2] } }),
        /tensor weights of shape \[2,2\] F32 needs 16 bytes but spans 24/,
      ],
      ['overlapping tensors', withHeader({ ...header, doubles: { ...header.doubles, data_offsets: [16, 24] } }), /overlap or hole/],
    ])('%s', (_what, bytes, message) => {
      expect(() => decodeSafetensors(bytes as Buffer, 'x.safetensors')).toThrow(message as RegExp);
      expect(() => decodeSafetensors(bytes as Buffer, 'x.safetensors')).toThrow(/^x\.safetensors: not a valid safetensors file/);
    });

    test('a missing file, a missing tensor and a wrong dtype', () => {
      expect(() => readSafetensors(path.join(dir, 'none.safetensors'))).toThrow(/none\.safetensors: file not found/);
      const content = decodeSafetensors(good, 'g.safetensors');
      expect(() => requireTensor(content, 'nothing', 'g.safetensors', 'F32', 1)).toThrow('g.safetensors: tensor nothing is missing');
      expect(() => requireTensor(content, 'labels', 'g.safetensors', 'F32', 1)).toThrow('g.safetensors: tensor labels is I64, expected F32');
    });
  });
});
