/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}},
 * then the tensors' bytes, row-major, little-endian. PyTorch opens these files
 * (safetensors.torch.load_file), and sgdlab opens PyTorch's.
 *
 * Written here rather than taken from npm: the format is a page long, and this keeps the bytes
 * going straight between files and libtorch without intermediate JavaScript arrays. The reader
 * validates everything a damaged or foreign file can get wrong and names the file and key.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as T from '../tensor/index.js';

const CODE: Record<T.DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const DTYPE = new Map(Object.entries(CODE).map(([d, c]) => [c, d as T.DType]));

export function encodeSafetensors(tensors: ReadonlyMap<string, T.Tensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error("safetensors: '__metadata__' cannot be a tensor name");
    const bytes = T.tidy(() => {
      const data = t.detach().to({ device: 'cpu' }).contiguous().data();
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    });
    header[name] = { dtype: CODE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // align the data to 8 bytes
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), ...chunks]);
}

/** Writes atomically (temporary file, then rename), so a crash never leaves half a checkpoint. */
export function saveSafetensors(path: string, tensors: ReadonlyMap<string, T.Tensor>, metadata: Record<string, string> = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeSafetensors(tensors, metadata));
  renameSync(tmp, path);
}

export interface SafetensorsFile {
  tensors: Map<string, T.Tensor>;
  metadata: Record<string, string>;
}

/** Parses a safetensors buffer into tensors (owned by the caller: they are kept out of tidy scopes). */
export function decodeSafetensors(buffer: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${why}`);
  };
  if (buffer.byteLength < 8) fail(`it has ${buffer.byteLength} bytes, fewer than the 8-byte header length`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > buffer.byteLength - 8 || headerLength > 100_000_000) fail(`the header length ${headerLength} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buffer.subarray(8, 8 + headerLength)).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    return fail(`the header is not JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = buffer.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, T.Tensor>();
  try {
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') {
        for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
          if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
          metadata[k] = v as string;
        }
        continue;
      }
      const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype = DTYPE.get(String(e?.dtype));
      if (!dtype) fail(`tensor '${name}' has dtype ${JSON.stringify(e?.dtype)}; supported: ${[...DTYPE.keys()].join(', ')}`);
      if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isInteger(s) && s >= 0)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
      const offsets = e.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1] || offsets[1] > dataLength) {
        fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)} outside the ${dataLength} data bytes`);
      }
      const shape = e.shape as number[];
      const [begin, end] = offsets as [number, number];
      const expected = shape.reduce((a, b) => a * b, 1) * T.itemSize(dtype!);
      if (end - begin !== expected) fail(`tensor '${name}' of shape [${shape.join(', ')}] (${dtype}) needs ${expected} bytes but its offsets span ${end - begin}`);
      // Copy into an aligned buffer of the right element type (file offsets need not be aligned).
      const bytes = new Uint8Array(expected);
      bytes.set(buffer.subarray(dataStart + begin, dataStart + end));
      const typed =
        dtype === 'float32' ? new Float32Array(bytes.buffer)
        : dtype === 'float64' ? new Float64Array(bytes.buffer)
        : dtype === 'int64' ? new BigInt64Array(bytes.buffer)
        : dtype === 'int32' ? new Int32Array(bytes.buffer)
        : bytes;
      tensors.set(name, T.keep(T.tensor(typed, { dtype: dtype!, shape })));
    }
  } catch (error) {
    T.dispose([...tensors.values()]);
    throw error;
  }
  return { tensors, metadata };
}

export function loadSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read checkpoint ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
