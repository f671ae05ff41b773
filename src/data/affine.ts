/**
 * Affine image augmentation as Keskar et al. 2017 used it (§4, App. E: random rotations up to 10° and
 * translations up to 0.2 of the image size), with torchvision's conventions (RandomAffine): the angle
 * is uniform in [−maxAngle, maxAngle] degrees, counter-clockwise for positive angles, about the image
 * centre; each shift is uniform in [−f·W, f·W] (and [−f·H, f·H]) pixels, rounded to whole pixels, so a
 * pure translation moves whole pixels (up to the float32 rounding of the sampling grid, ~1e-6);
 * bilinear interpolation; outside the image is the fill value.
 *
 * The map is built in pixel units about the centre and handed to affine_grid in normalized coordinates
 * (align_corners = false): with S = diag(W/2, H/2) taking normalized to pixel offsets and R(a) the
 * inverse rotation, input = S⁻¹·R(a)⁻¹·(S·output − t). Checked against torchvision's own pixel-grid
 * construction (tools/reference/make_remedies_fixtures.py).
 */
import * as T from '../tensor/index.js';

export interface AffineSpec {
  /** Largest rotation angle in degrees (the angle is uniform in [−rotation, rotation]). */
  rotation?: number;
  /** Largest shift as a fraction of the image size, per axis (uniform, rounded to whole pixels). */
  translation?: number;
}

/** Whether the spec changes anything (rotation 0 and translation 0 leave every image untouched). */
export const isAffineIdentity = (spec: AffineSpec): boolean => !(spec.rotation ?? 0) && !(spec.translation ?? 0);

/**
 * Rotates image i of x [N, C, H, W] by angles[i] degrees counter-clockwise about its centre and shifts it
 * by shifts[i] = [dx, dy] pixels (right, down). `fill` is the value outside the image, one per channel
 * (default 0): the result is the bilinear interpolation of the image extended by the fill value.
 */
export function affineTransform(x: T.Tensor, angles: readonly number[], shifts: readonly (readonly [number, number])[], fill?: readonly number[]): T.Tensor {
  if (x.rank !== 4) throw new Error(`affineTransform: expected images [N, C, H, W], got shape [${x.shape.join(', ')}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (angles.length !== n || shifts.length !== n) throw new Error(`affineTransform: ${n} images but ${angles.length} angles and ${shifts.length} shifts`);
  if (fill && fill.length !== c && fill.length !== 1) throw new Error(`affineTransform: fill has ${fill.length} values for ${c} channels`);
  const theta = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) {
    const a = (angles[i]! * Math.PI) / 180;
    const [dx, dy] = shifts[i]!;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    // R(a)⁻¹ in image coordinates (y down) for a counter-clockwise rotation: (x, y) ↦ (x cos a − y sin a, x sin a + y cos a),
    // conjugated by S, then the shift: in normalized units t_n = S⁻¹ t.
    const m00 = cos;
    const m01 = (-sin * h) / w;
    const m10 = (sin * w) / h;
    const m11 = cos;
    const tx = (2 * dx) / w;
    const ty = (2 * dy) / h;
    theta.set([m00, m01, -(m00 * tx + m01 * ty), m10, m11, -(m10 * tx + m11 * ty)], 6 * i);
  }
  return T.tidy(() => {
    const grid = T.affineGrid(T.tensor(theta, { shape: [n, 2, 3] }).to({ dtype: x.dtype, device: T.deviceOf(x) }), [n, c, h, w], { alignCorners: false });
    if (!fill || fill.every((f) => f === 0)) return T.gridSample(x, grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false });
    const f = T.tensor([...fill], { shape: [1, fill.length, 1, 1] }).to({ dtype: x.dtype, device: T.deviceOf(x) });
    // Zero padding of (x − f), plus f: the image extended by the fill value, then interpolated.
    return T.gridSample(x.sub(f), grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false }).add(f);
  });
}

/** Draws each example's angle and shift from g (one [N, 3] uniform draw) and applies them. */
export function randomAffine(x: T.Tensor, spec: AffineSpec, g: T.Generator, fill?: readonly number[]): T.Tensor {
  if (isAffineIdentity(spec)) return x;
  const [n, , h, w] = x.shape as [number, number, number, number];
  const u = T.tidy(() => T.rand([n, 3], { generator: g, dtype: 'float64' }).data() as Float64Array);
  const rotation = spec.rotation ?? 0;
  const translation = spec.translation ?? 0;
  const angles: number[] = [];
  const shifts: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    angles.push(rotation * (2 * u[3 * i]! - 1));
    // torchvision: round(uniform(−f·W, f·W)); +0 turns a rounded −0 into 0.
    shifts.push([Math.round(translation * w * (2 * u[3 * i + 1]! - 1)) + 0, Math.round(translation * h * (2 * u[3 * i + 2]! - 1)) + 0]);
  }
  return affineTransform(x, angles, shifts, fill);
}
