/**
 * The safetensors file format (as Python's `safetensors` package reads and writes it): an 8-byte
 * little-endian header length, a JSON header mapping each tensor name to its dtype, shape and
 * byte range [begin, end) in the data section (plus an optional "__metadata__" of string values),
 * padded with spaces to a multiple of 8 bytes, then the raw little-endian data. Written by hand:
 * npm has no maintained implementation for Node.
 */
import * as fs from 'fs';
import * as os from 'os';
import { TrajmatchInputError } from '../errors';
import { writeAtomic } from './atomic';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

type Typed = Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface TensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The raw little-endian bytes. */
  bytes: Uint8Array;
}

export interface SafetensorsContent {
  metadata: Record<string, string>;
  tensors: Map<string, TensorEntry>;
}

/** A safetensors file is malformed or not what was expected. */
export class SafetensorsError extends TrajmatchInputError {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

// By tag rather than instanceof: typed arrays made by the addon may come from another realm (jest's VM contexts).
const DTYPE_OF_ARRAY: Record<string, SafetensorsDtype> = {
  Float64Array: 'F64',
  Float32Array: 'F32',
  BigInt64Array: 'I64',
  Int32Array: 'I32',
  Int16Array: 'I16',
  Int8Array: 'I8',
  Uint8Array: 'U8',
};

function dtypeOf(values: Typed): SafetensorsDtype {
  const tag = Object.prototype.toString.call(values).slice(8, -1);
  const dtype = DTYPE_OF_ARRAY[tag];
  if (!dtype) throw new Error(`safetensors: cannot write a ${tag}`);
  return dtype;
}

/** A tensor to write: a typed array and its shape (dtype from the array, or BOOL for booleans in a Uint8Array). */
export interface TensorInput {
  values: Typed;
  shape: number[];
  dtype?: SafetensorsDtype;
}

/** The bytes of a safetensors file. */
export function encodeSafetensors(tensors: Record<string, TensorInput>, metadata: Record<string, string> = {}): Buffer {
  if (os.endianness() !== 'LE') throw new Error('safetensors: typed arrays are written as they are in memory, so only little-endian hosts are supported');
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype ?? dtypeOf(t.values);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.values.length) throw new Error(`safetensors: tensor ${name} has shape [${t.shape.join(',')}] but ${t.values.length} values`);
    const bytes = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json, 'utf8'), ...parts]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A JSON value as a message shows it: null, an array, or its type. */
function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value).slice(0, 40)}` : `a ${typeof value}`;
}

interface HeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses and checks a header against a data section of `dataLength` bytes; problems name `file`. */
function parseHeader(json: Buffer, dataLength: number, file: string): { metadata: Record<string, string>; entries: Map<string, HeaderEntry> } {
  const fail = (why: string) => new SafetensorsError(`${file}: not a valid safetensors file: ${why}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw fail(`the header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw fail('the header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries = new Map<string, HeaderEntry>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry)) throw fail(`__metadata__ must be an object of string values, received ${describeJson(entry)}`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw fail(`metadata value ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isPlainObject(entry)) throw fail(`tensor ${name} must be an object with dtype, shape and data_offsets, received ${describeJson(entry)}`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) throw fail(`tensor ${name} has unknown dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) throw fail(`tensor ${name} has a malformed shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw fail(`tensor ${name} has malformed data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const dtype = e.dtype as SafetensorsDtype;
    const expectedBytes = (e.shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    const shape = e.shape as number[];
    if (end - begin !== expectedBytes)
      throw fail(`tensor ${name} of shape [${shape.join(',')}] ${dtype} needs ${expectedBytes} bytes but spans ${end - begin}`);
    if (end > dataLength) throw fail(`tensor ${name} ends at byte ${end} of a ${dataLength}-byte data section (truncated?)`);
    ranges.push([begin, end, name]);
    entries.set(name, { dtype, shape, begin, end });
  }
  // The format has no holes and no overlaps: the ranges tile the data section.
  ranges.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== at) throw fail(`tensor ${name} starts at byte ${begin}, expected ${at} (overlap or hole)`);
    at = end;
  }
  if (at !== dataLength) throw fail(`the data section holds ${dataLength} bytes but the tensors cover ${at}`);
  return { metadata, entries };
}

function headerLengthOf(head: Buffer, fileLength: number, file: string): number {
  const fail = (why: string) => new SafetensorsError(`${file}: not a valid safetensors file: ${why}`);
  if (fileLength < 8) throw fail(`${fileLength} bytes is too short for the header length`);
  const headerLength = head.readBigUInt64LE(0);
  if (headerLength > BigInt(fileLength - 8)) {
    throw fail(`the header length field says ${headerLength} bytes but only ${fileLength - 8} bytes follow it (a ${fileLength}-byte file; truncated?)`);
  }
  return Number(headerLength);
}

/** Parses and checks a safetensors file's bytes; every problem is a SafetensorsError naming `file`. */
export function decodeSafetensors(bytes: Buffer, file: string): SafetensorsContent {
  const n = headerLengthOf(bytes, bytes.length, file);
  const dataStart = 8 + n;
  const { metadata, entries } = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, file);
  const tensors = new Map<string, TensorEntry>();
  for (const [name, e] of entries) tensors.set(name, { dtype: e.dtype, shape: e.shape, bytes: bytes.subarray(dataStart + e.begin, dataStart + e.end) });
  return { metadata, tensors };
}

/**
 * The metadata and tensor shapes of a file, checked like decodeSafetensors (sizes against the file's
 * length included) but without reading the data: for looking over large files.
 */
export function readSafetensorsHeader(file: string): { metadata: Record<string, string>; shapes: Map<string, { dtype: SafetensorsDtype; shape: number[] }> } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SafetensorsError(`${file}: ${code === 'ENOENT' ? 'file not found' : (e as Error).message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(8);
    fs.readSync(fd, head, 0, Math.min(8, size), 0);
    const n = headerLengthOf(head, size, file);
    const json = Buffer.alloc(n);
    fs.readSync(fd, json, 0, n, 8);
    const { metadata, entries } = parseHeader(json, size - 8 - n, file);
    return { metadata, shapes: new Map([...entries].map(([name, e]) => [name, { dtype: e.dtype, shape: e.shape }])) };
  } finally {
    fs.closeSync(fd);
  }
}

export function readSafetensors(file: string): SafetensorsContent {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SafetensorsError(`${file}: ${code === 'ENOENT' ? 'file not found' : (e as Error).message}`);
  }
  return decodeSafetensors(bytes, file);
}

/** Writes a safetensors file atomically. */
export function writeSafetensors(file: string, tensors: Record<string, TensorInput>, metadata: Record<string, string> = {}): Promise<void> {
  return writeAtomic(file, encodeSafetensors(tensors, metadata));
}

/** A tensor's values as a typed array of its dtype (copied, so it is aligned and owned). */
export function tensorValues(entry: TensorEntry, name: string, file: string, want: SafetensorsDtype): Typed {
  if (entry.dtype !== want) throw new SafetensorsError(`${file}: tensor ${name} is ${entry.dtype}, expected ${want}`);
  const copy = new Uint8Array(entry.bytes);
  switch (want) {
    case 'F64':
      return new Float64Array(copy.buffer);
    case 'F32':
      return new Float32Array(copy.buffer);
    case 'I64':
      return new BigInt64Array(copy.buffer);
    case 'I32':
      return new Int32Array(copy.buffer);
    case 'I16':
      return new Int16Array(copy.buffer);
    case 'I8':
      return new Int8Array(copy.buffer);
    default:
      return copy;
  }
}

/** The named tensor of a file's content, with its shape checked; a SafetensorsError naming the file otherwise. */
export function requireTensor(
  content: SafetensorsContent,
  name: string,
  file: string,
  dtype: SafetensorsDtype,
  rank: number,
): { shape: number[]; values: Typed } {
  const entry = content.tensors.get(name);
  if (!entry) throw new SafetensorsError(`${file}: tensor ${name} is missing`);
  if (entry.shape.length !== rank) throw new SafetensorsError(`${file}: tensor ${name} has shape [${entry.shape.join(',')}], expected ${rank} dimension(s)`);
  return { shape: entry.shape, values: tensorValues(entry, name, file, dtype) };
}

/**
 * Class indices read from an I64 tensor, each checked to be in [0, numClasses) before it is narrowed
 * (a stored 2^40 would otherwise wrap to a valid-looking class).
 */
export function classIndices(values: BigInt64Array, numClasses: number, name: string, file: string): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0n || v >= BigInt(numClasses)) throw new SafetensorsError(`${file}: ${name}[${i}] is ${v}, expected a class index in [0, ${numClasses})`);
    out[i] = Number(v);
  }
  return out;
}
