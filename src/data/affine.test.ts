/**
 * The paper's augmentation (rotations and translations) and the ops under it, against PyTorch
 * (fixtures/affine.json, written by tools/reference/make_remedies_fixtures.py): affine_grid and
 * grid_sample with their gradients; whole transforms against torchvision's own pixel-grid construction;
 * rotation by 90° against the transposed-and-flipped image; the identity setting; per-example draws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { assertClose, decode, readFixture, type EncodedTensor } from '../tensor/testing.js';
import { affineTransform, augment, randomAffine } from './index.js';

interface OpCase {
  name: string;
  theta?: EncodedTensor;
  size?: number[];
  x?: EncodedTensor;
  grid?: EncodedTensor;
  mode?: T.GridSampleMode;
  paddingMode?: T.GridSamplePadding;
  alignCorners: boolean;
  output: EncodedTensor;
  cotangent: EncodedTensor;
  gradTheta?: EncodedTensor;
  gradX?: EncodedTensor;
  gradGrid?: EncodedTensor;
}
interface TransformCase { name: string; x: EncodedTensor; angles: number[]; shifts: [number, number][]; fill?: number[]; output: EncodedTensor }
const fixture = readFixture<{ ops: OpCase[]; transforms: TransformCase[] }>(import.meta.url, 'fixtures/affine.json');

test('affineGrid and gridSample equal PyTorch, values and gradients, in every mode, padding and corner convention', () => {
  // float32 both sides, O(1) values: affine_grid's 3-term sums and grid_sample's 4 (bilinear) weighted pixels
  // carry ≈ √n·u·Σ|terms| ≲ 5e-7, well inside rtol 1e-5 (atol 1e-6 / 1e-5 for outputs near zero). Gradients
  // sum over every output a value reaches (∂/∂x: up to 24 sampling points × 4 weights; ∂/∂θ: 35 grid points),
  // ≲ 1e-6·‖terms‖, within rtol 1e-4 / atol 1e-5; ∂/∂grid is scaled by (W − 1)/2 ≤ 3 pixels per unit and
  // differences pixel values of O(1): atol 1e-4. Every one passes 10× tighter under every OpenBLAS core type
  // and ATen capability tried. The points are away from the pixel boundaries (checked in the next test).
  const before = T.memory().numTensors;
  assert.equal(fixture.ops.length, 14);
  for (const c of fixture.ops) {
    T.tidy(() => {
      if (c.theta) {
        const theta = decode(c.theta).requiresGrad_();
        const out = T.affineGrid(theta, c.size!, { alignCorners: c.alignCorners });
        assertClose(out, decode(c.output), { rtol: 1e-5, atol: 1e-6 }, c.name);
        const [g] = T.gradients([out.mul(decode(c.cotangent)).sum()], [theta]);
        assertClose(g!, decode(c.gradTheta!), { rtol: 1e-4, atol: 1e-5 }, `${c.name} ∂/∂θ`);
        return;
      }
      const x = decode(c.x!).requiresGrad_();
      const grid = decode(c.grid!).requiresGrad_(c.gradGrid !== undefined);
      const out = T.gridSample(x, grid, { mode: c.mode, paddingMode: c.paddingMode, alignCorners: c.alignCorners });
      assertClose(out, decode(c.output), { rtol: 1e-5, atol: 1e-5 }, c.name);
      const wrt = c.gradGrid ? [x, grid] : [x];
      const grads = T.gradients([out.mul(decode(c.cotangent)).sum()], wrt);
      assertClose(grads[0]!, decode(c.gradX!), { rtol: 1e-4, atol: 1e-5 }, `${c.name} ∂/∂x`);
      if (c.gradGrid) assertClose(grads[1]!, decode(c.gradGrid), { rtol: 1e-4, atol: 1e-4 }, `${c.name} ∂/∂grid`);
    });
  }
  T.tidy(() => {
    assert.throws(() => T.gridSample(T.zeros([1, 1, 2, 2]), T.zeros([1, 2, 2, 2]), { mode: 'cubic' as T.GridSampleMode }), /gridSample: mode must be 'bilinear', 'nearest' or 'bicubic', got 'cubic'/);
    assert.throws(() => T.affineGrid(T.zeros([1, 3, 3]), [1, 1, 4, 4]), /affineGrid/);
  });
  assert.equal(T.memory().numTensors, before);
});

/**
 * gridSample is discontinuous in the grid where a sampling point crosses a pixel boundary: nearest mode's
 * value (and ∂/∂x) where its pixel coordinate is a half-integer, bilinear's ∂/∂grid where it is an integer
 * (the interpolation weights' slopes change there; border and reflection padding fold at integers or
 * half-integers too, and reflection keeps distances to both lattices). There, what PyTorch returns is
 * rounding's choice, so the comparison above is determined only if every point of the fixture's grid stays
 * away from them: farther than the float32 rounding of its unnormalization ((g + 1)·W − 1)/2 or
 * (g + 1)/2·(W − 1), a few u·W ≈ 1e-6 pixel. MIN_GAP = 1e-4 pixel clears that by 100×; the closest
 * point is 3e-3 away.
 */
test('the fixture\'s sampling points are away from the pixel boundaries where gridSample is discontinuous', () => {
  const MIN_GAP = 1e-4;
  let closest = Infinity;
  for (const c of fixture.ops.filter((k) => k.grid)) {
    const g = c.grid!.data.map(Number);
    const [height, width] = [c.x!.shape[2]!, c.x!.shape[3]!];
    g.forEach((v, i) => {
      const size = i % 2 === 0 ? width : height;
      const pixel = c.alignCorners ? ((v + 1) / 2) * (size - 1) : ((v + 1) * size - 1) / 2;
      const d = Math.min(Math.abs(pixel - Math.round(pixel)), Math.abs(pixel - 0.5 - Math.round(pixel - 0.5)));
      closest = Math.min(closest, d);
      assert.ok(d >= MIN_GAP, `${c.name}: grid value ${v} is at pixel ${pixel}, ${d} from a boundary where the sample is rounding's choice`);
    });
  }
  assert.ok(closest < Infinity, 'no grid was checked');
});

test('rotations and translations equal torchvision\'s affine (its pixel grid about the centre), with and without a fill value', () => {
  // Bilinear, zeros padding: the value is continuous in the sampling point even where it lands exactly on a
  // pixel centre (rot90, whole-pixel shifts), so the grid's float32 rounding (≈ 1e-6 pixel, computed here
  // in float32 and there in float64) moves it by ≲ 1e-6·|pixel differences| ≤ 2e-6 for values in [−0.5, 1.5]:
  // atol 2e-5, rtol 1e-4.
  for (const c of fixture.transforms) {
    T.tidy(() => {
      const out = affineTransform(decode(c.x), c.angles, c.shifts, c.fill);
      assertClose(out, decode(c.output), { rtol: 1e-4, atol: 2e-5 }, c.name);
    });
  }
});

test('a rotation by 90° of a known image is the transposed-and-flipped image; by −90° the other way; a whole-pixel shift moves pixels exactly', () => {
  T.tidy(() => {
    const img = T.arange(0, 25, 1, { dtype: 'float32' }).reshape([1, 1, 5, 5]);
    // Counter-clockwise by 90°: transpose, then flip the rows (torch.rot90(x, 1, [2, 3])).
    assertClose(affineTransform(img, [90], [[0, 0]]), img.transpose(2, 3).flip([2]), { rtol: 0, atol: 1e-5 }, '+90°');
    assertClose(affineTransform(img, [-90], [[0, 0]]), img.transpose(2, 3).flip([3]), { rtol: 0, atol: 1e-5 }, '−90°');
    assertClose(affineTransform(img, [180], [[0, 0]]), img.flip([2, 3]), { rtol: 0, atol: 1e-5 }, '180°');
    // Shift right by 2 and up by 1: out[i][j] = in[i + 1][j − 2], zero where that falls outside.
    const expected = T.zeros([1, 1, 5, 5]);
    T.noGrad(() => expected.narrow(2, 0, 4).narrow(3, 2, 3).copy_(img.narrow(2, 1, 4).narrow(3, 0, 3)));
    assertClose(affineTransform(img, [0], [[2, -1]]), expected, { rtol: 0, atol: 1e-5 }, 'shift (2, −1)');
  });
});

test('the identity setting changes nothing and draws nothing; the same seed draws the same transforms, per example', () => {
  T.tidy(() => {
    const x = T.rand([4, 1, 8, 8], { generator: new T.Generator(1) });
    const g = new T.Generator(5);
    const same = augment(x, { rotation: 0, translation: 0 }, g, [-0.4]);
    assert.deepEqual(same.data(), x.data());
    assertClose(affineTransform(x, [0, 0, 0, 0], [[0, 0], [0, 0], [0, 0], [0, 0]]), x, { rtol: 0, atol: 1e-6 }, 'zero angle and shift');
    assert.deepEqual(T.rand([3], { generator: g }).data(), T.rand([3], { generator: new T.Generator(5) }).data(), 'the identity drew nothing');
    const a = randomAffine(x, { rotation: 10, translation: 0.2 }, new T.Generator(9));
    const b = randomAffine(x, { rotation: 10, translation: 0.2 }, new T.Generator(9));
    assert.deepEqual(a.data(), b.data());
    // Each example gets its own draw: the four transformed copies of one image differ.
    const copies = randomAffine(x.narrow(0, 0, 1).expand([4, 1, 8, 8]).contiguous(), { rotation: 10, translation: 0.2 }, new T.Generator(9));
    const rows = [0, 1, 2, 3].map((i) => Array.from(copies.select(0, i).data() as Float32Array));
    assert.equal(new Set(rows.map((r) => r.join())).size, 4);
  });
});

test('translations stay within the fraction of the image size, in whole pixels', () => {
  T.tidy(() => {
    // One lit pixel in the centre of a 28×28 image: after a pure translation it is one lit pixel, moved by at most
    // round(0.2·28) = 6 (up to the float32 rounding of the sampling grid: neighbours get ~1e-6).
    const n = 64;
    const x = T.zeros([n, 1, 28, 28]);
    T.noGrad(() => x.narrow(2, 14, 1).narrow(3, 14, 1).fill_(1));
    const out = randomAffine(x, { translation: 0.2 }, new T.Generator(3));
    const values = out.data() as Float32Array;
    const shifts = new Set<string>();
    for (let i = 0; i < n; i++) {
      const image = values.subarray(i * 784, (i + 1) * 784);
      const lit = [...image.keys()].filter((k) => image[k]! > 1e-5);
      assert.equal(lit.length, 1, `image ${i}: one pixel, moved whole`);
      assert.ok(Math.abs(image[lit[0]!]! - 1) < 1e-5);
      const dy = Math.floor(lit[0]! / 28) - 14;
      const dx = (lit[0]! % 28) - 14;
      assert.ok(Math.abs(dx) <= 6 && Math.abs(dy) <= 6, `shift (${dx}, ${dy})`);
      shifts.add(`${dx},${dy}`);
    }
    assert.ok(shifts.size > 20, `the shifts vary: ${shifts.size} distinct of ${n}`);
  });
});
