/** Matrix products and the small dense linear algebra the measurements need (eigh, pinv, solve). */
import { N, Tensor, handleOf, run, wrap } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    matmul(other: Tensor): Tensor;
    mm(other: Tensor): Tensor;
    dot(other: Tensor): Tensor;
  }
}

type Pair = 'matmul' | 'mm' | 'bmm' | 'dot' | 'outer' | 'solve';
const pair = (op: Pair, a: Tensor, b: Tensor): Tensor => run(op, [a, b], () => wrap(N[op](handleOf(op, 'a', a), handleOf(op, 'b', b))));

/** Matrix product with numpy/PyTorch broadcasting rules. */
export const matmul = (a: Tensor, b: Tensor): Tensor => pair('matmul', a, b);
export const mm = (a: Tensor, b: Tensor): Tensor => pair('mm', a, b);
export const bmm = (a: Tensor, b: Tensor): Tensor => pair('bmm', a, b);
export const dot = (a: Tensor, b: Tensor): Tensor => pair('dot', a, b);
export const outer = (a: Tensor, b: Tensor): Tensor => pair('outer', a, b);
/** Solves A X = B. */
export const solve = (a: Tensor, b: Tensor): Tensor => pair('solve', a, b);
/** Eigen-decomposition of a symmetric matrix: eigenvalues ascending, eigenvectors as columns. */
export function eigh(a: Tensor): { eigenvalues: Tensor; eigenvectors: Tensor } {
  return run('eigh', [a], () => {
    const [values, vectors] = N.eigh(handleOf('eigh', 'a', a));
    return { eigenvalues: wrap(values), eigenvectors: wrap(vectors) };
  });
}
/** Moore–Penrose pseudo-inverse. */
export const pinv = (a: Tensor): Tensor => run('pinv', [a], () => wrap(N.pinv(handleOf('pinv', 'a', a))));

const proto = Tensor.prototype;
proto.matmul = function (other) { return matmul(this, other); };
proto.mm = function (other) { return mm(this, other); };
proto.dot = function (other) { return dot(this, other); };
