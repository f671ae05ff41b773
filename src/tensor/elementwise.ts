/**
 * Elementwise arithmetic with broadcasting and scalars, comparisons, and where.
 * A JavaScript number acts as a Python number does in PyTorch's type promotion:
 * `intTensor.mul(2)` stays int64, `intTensor.mul(0.5)` becomes float32.
 */
import { N, Tensor, handleOf, isScalarOperand, operand, run, wrap } from './tensor.js';

type Operand = Tensor | number;
type BinaryName = 'mul' | 'div' | 'pow' | 'remainder' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
type UnaryName =
  | 'neg' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sqrt' | 'rsqrt' | 'abs' | 'sign' | 'square'
  | 'reciprocal' | 'sin' | 'cos' | 'floor' | 'ceil' | 'round' | 'erf' | 'isnan' | 'isfinite' | 'logicalNot';

declare module './tensor.js' {
  interface Tensor {
    /** this + alpha·other */
    add(other: Operand, alpha?: number): Tensor;
    /** this − alpha·other */
    sub(other: Operand, alpha?: number): Tensor;
    /** value − this */
    rsub(value: number): Tensor;
    mul(other: Operand): Tensor;
    div(other: Operand): Tensor;
    pow(exponent: Operand): Tensor;
    remainder(other: Operand): Tensor;
    maximum(other: Operand): Tensor;
    minimum(other: Operand): Tensor;
    eq(other: Operand): Tensor;
    ne(other: Operand): Tensor;
    lt(other: Operand): Tensor;
    le(other: Operand): Tensor;
    gt(other: Operand): Tensor;
    ge(other: Operand): Tensor;
    neg(): Tensor; exp(): Tensor; log(): Tensor; log1p(): Tensor; expm1(): Tensor;
    sqrt(): Tensor; rsqrt(): Tensor; abs(): Tensor; sign(): Tensor; square(): Tensor;
    reciprocal(): Tensor; sin(): Tensor; cos(): Tensor; floor(): Tensor; ceil(): Tensor;
    round(): Tensor; erf(): Tensor; isnan(): Tensor; isfinite(): Tensor; logicalNot(): Tensor;
    /** Limits values to [min, max]; either bound may be omitted. */
    clamp(min?: number, max?: number): Tensor;
  }
}

function binary(op: BinaryName, a: Tensor, b: Operand): Tensor {
  return run(op, [a, b], () => wrap(N[op](handleOf(op, 'self', a), operand(op, 'other', b), isScalarOperand(b))));
}
function unary(op: UnaryName, a: Tensor): Tensor {
  return run(op, [a], () => wrap(N[op](handleOf(op, 'self', a))));
}

export const add = (a: Tensor, b: Operand, alpha?: number): Tensor =>
  run('add', [a, b], () => wrap(N.add(handleOf('add', 'self', a), operand('add', 'other', b), alpha ?? null, isScalarOperand(b))));
export const sub = (a: Tensor, b: Operand, alpha?: number): Tensor =>
  run('sub', [a, b], () => wrap(N.sub(handleOf('sub', 'self', a), operand('sub', 'other', b), alpha ?? null, isScalarOperand(b))));
export const rsub = (a: Tensor, value: number): Tensor => run('rsub', [a, value], () => wrap(N.rsub(handleOf('rsub', 'self', a), value)));
export const mul = (a: Tensor, b: Operand): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Operand): Tensor => binary('div', a, b);
export const pow = (a: Tensor, b: Operand): Tensor => binary('pow', a, b);
export const remainder = (a: Tensor, b: Operand): Tensor => binary('remainder', a, b);
export const maximum = (a: Tensor, b: Operand): Tensor => binary('maximum', a, b);
export const minimum = (a: Tensor, b: Operand): Tensor => binary('minimum', a, b);
export const eq = (a: Tensor, b: Operand): Tensor => binary('eq', a, b);
export const ne = (a: Tensor, b: Operand): Tensor => binary('ne', a, b);
export const lt = (a: Tensor, b: Operand): Tensor => binary('lt', a, b);
export const le = (a: Tensor, b: Operand): Tensor => binary('le', a, b);
export const gt = (a: Tensor, b: Operand): Tensor => binary('gt', a, b);
export const ge = (a: Tensor, b: Operand): Tensor => binary('ge', a, b);

export const neg = (a: Tensor): Tensor => unary('neg', a);
export const exp = (a: Tensor): Tensor => unary('exp', a);
export const log = (a: Tensor): Tensor => unary('log', a);
export const log1p = (a: Tensor): Tensor => unary('log1p', a);
export const expm1 = (a: Tensor): Tensor => unary('expm1', a);
export const sqrt = (a: Tensor): Tensor => unary('sqrt', a);
export const rsqrt = (a: Tensor): Tensor => unary('rsqrt', a);
export const abs = (a: Tensor): Tensor => unary('abs', a);
export const sign = (a: Tensor): Tensor => unary('sign', a);
export const square = (a: Tensor): Tensor => unary('square', a);
export const reciprocal = (a: Tensor): Tensor => unary('reciprocal', a);
export const sin = (a: Tensor): Tensor => unary('sin', a);
export const cos = (a: Tensor): Tensor => unary('cos', a);
export const floor = (a: Tensor): Tensor => unary('floor', a);
export const ceil = (a: Tensor): Tensor => unary('ceil', a);
export const round = (a: Tensor): Tensor => unary('round', a);
export const erf = (a: Tensor): Tensor => unary('erf', a);
export const isnan = (a: Tensor): Tensor => unary('isnan', a);
export const isfinite = (a: Tensor): Tensor => unary('isfinite', a);
export const logicalNot = (a: Tensor): Tensor => unary('logicalNot', a);

export const clamp = (a: Tensor, min?: number, max?: number): Tensor =>
  run('clamp', [a, min, max], () => wrap(N.clamp(handleOf('clamp', 'self', a), min ?? null, max ?? null)));

/** Elements of a where condition holds, else of b (tensors or numbers, broadcast together). */
export const where = (condition: Tensor, a: Operand, b: Operand): Tensor =>
  run('where', [condition, a, b], () => wrap(N.where(handleOf('where', 'condition', condition), operand('where', 'a', a), operand('where', 'b', b), isScalarOperand(a), isScalarOperand(b))));

const proto = Tensor.prototype;
proto.add = function (other, alpha) { return add(this, other, alpha); };
proto.sub = function (other, alpha) { return sub(this, other, alpha); };
proto.rsub = function (value) { return rsub(this, value); };
for (const op of ['mul', 'div', 'pow', 'remainder', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
  proto[op] = function (this: Tensor, other: Operand) { return binary(op, this, other); };
}
for (const op of ['neg', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'abs', 'sign', 'square', 'reciprocal', 'sin', 'cos', 'floor', 'ceil', 'round', 'erf', 'isnan', 'isfinite', 'logicalNot'] as const) {
  proto[op] = function (this: Tensor) { return unary(op, this); };
}
proto.clamp = function (min, max) { return clamp(this, min, max); };
