/**
 * The IDX format of MNIST and Fashion-MNIST (LeCun): a big-endian header — two zero bytes, a type
 * code (0x08 = unsigned byte), the number of dimensions — then each dimension as a uint32, then
 * the data row-major. Files may be gzipped (detected by their magic bytes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array, path = 'IDX data'): IdxArray {
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) throw new Error(`${path}: not an IDX file (the first two bytes must be zero)`);
  if (raw[2] !== 0x08) throw new Error(`${path}: IDX element type 0x${raw[2]!.toString(16)} is not supported; only unsigned bytes (0x08) are`);
  const dims = raw[3]!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.length < 4 + 4 * dims) throw new Error(`${path}: the IDX header is truncated`);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = 4 + 4 * dims;
  if (raw.length - offset !== count) {
    throw new Error(`${path}: the header announces shape [${shape.join(', ')}] (${count} bytes) but ${raw.length - offset} bytes of data follow`);
  }
  return { shape, data: raw.subarray(offset) };
}

export function readIdx(path: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseIdx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

export function writeIdx(path: string, shape: readonly number[], data: Uint8Array): void {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((s, i) => header.writeUInt32BE(s, 4 + 4 * i));
  writeFileSync(path, Buffer.concat([header, data]));
}
