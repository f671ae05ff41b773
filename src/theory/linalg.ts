/** Small dense linear algebra in plain JavaScript, for closed forms (no addon needed). Matrices are row-major arrays. */
export type Matrix = number[][];

export const identity = (d: number): Matrix => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
export const matmul = (a: Matrix, b: Matrix): Matrix => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
export const add = (a: Matrix, b: Matrix, s = 1): Matrix => a.map((row, i) => row.map((v, j) => v + s * b[i]![j]!));
export const scale = (a: Matrix, s: number): Matrix => a.map((row) => row.map((v) => v * s));
export const trace = (a: Matrix): number => a.reduce((s, row, i) => s + row[i]!, 0);
export const transpose = (a: Matrix): Matrix => a[0]!.map((_, j) => a.map((row) => row[j]!));

/** Solves M x = b by Gaussian elimination with partial pivoting; throws on a singular M. */
export function solve(m: Matrix, b: number[]): number[] {
  const n = b.length;
  const a = m.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) < 1e-300) throw new Error('solve: the matrix is singular');
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

export const inverse = (m: Matrix): Matrix => transpose(identity(m.length).map((e) => solve(m, e)));
