/** Element types sgdlab tensors can hold, with libtorch's c10::ScalarType codes. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool'];

const CODE: Record<DType, number> = { uint8: 0, int32: 3, int64: 4, float32: 6, float64: 7, bool: 11 };
const BY_CODE = new Map<number, DType>(Object.entries(CODE).map(([k, v]) => [v, k as DType]));

export function dtypeCode(dtype: DType): number {
  const code = CODE[dtype];
  if (code === undefined) throw new TypeError(`unknown dtype '${String(dtype)}'; expected one of ${DTYPES.join(', ')}`);
  return code;
}

export function dtypeFromCode(code: number): DType {
  const dtype = BY_CODE.get(code);
  if (dtype === undefined) throw new TypeError(`libtorch returned dtype code ${code}, which sgdlab does not support`);
  return dtype;
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function itemSize(dtype: DType): number {
  return { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 }[dtype];
}

/** The TypedArray a tensor of each dtype exports to (bool as 0/1 bytes). */
export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export function dtypeOfTypedArray(array: ArrayBufferView): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof BigInt64Array) return 'int64';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Uint8Array) return 'uint8';
  throw new TypeError(`unsupported TypedArray ${array.constructor.name}; expected Float32Array, Float64Array, BigInt64Array, Int32Array or Uint8Array`);
}

/** A fresh TypedArray of the dtype's kind, filled from plain numbers (or booleans). */
export function typedArrayFrom(dtype: DType, values: ArrayLike<number | boolean>): AnyTypedArray {
  const n = values.length;
  switch (dtype) {
    case 'float32': return Float32Array.from(values as ArrayLike<number>, Number);
    case 'float64': return Float64Array.from(values as ArrayLike<number>, Number);
    case 'int32': return Int32Array.from(values as ArrayLike<number>, Number);
    case 'uint8': return Uint8Array.from(values as ArrayLike<number>, Number);
    case 'bool': return Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = Number(values[i]);
        if (!Number.isInteger(v)) throw new TypeError(`int64 tensor: element ${i} is ${v}, not an integer`);
        out[i] = BigInt(v);
      }
      return out;
    }
  }
}
