/**
 * Image augmentation applied to training minibatches: random crops of a zero-padded image, random
 * horizontal flips, and random rotations and translations (Keskar et al. 2017's augmentation,
 * affine.ts), each example drawn independently from the run's data generator.
 */
import * as T from '../tensor/index.js';
import { randomAffine, type AffineSpec } from './affine.js';

export interface AugmentSpec extends AffineSpec {
  /** Pad by this many pixels and crop back at a random offset (4 for CIFAR, as usual). */
  cropPadding?: number;
  /** Flip left-right with probability ½. */
  horizontalFlip?: boolean;
}

/** `fill`: per channel, the value outside the image after a rotation or translation (default 0). */
export function augment(x: T.Tensor, spec: AugmentSpec, g: T.Generator, fill?: readonly number[]): T.Tensor {
  return T.tidy(() => {
    let out = x;
    const [n, , h, w] = x.shape as [number, number, number, number];
    const p = spec.cropPadding ?? 0;
    if (p > 0) {
      const padded = T.pad(out, [p, p, p, p]);
      const offsets = T.randint(0, 2 * p + 1, [n, 2], { generator: g }).data() as BigInt64Array;
      const crops: T.Tensor[] = [];
      for (let i = 0; i < n; i++) {
        crops.push(padded.select(0, i).narrow(1, Number(offsets[2 * i]), h).narrow(2, Number(offsets[2 * i + 1]), w));
      }
      out = T.stack(crops, 0);
    }
    if (spec.horizontalFlip) {
      const flip = T.rand([n, 1, 1, 1], { generator: g, device: T.deviceOf(x) }).lt(0.5);
      out = T.where(flip, out.flip([3]), out);
    }
    return randomAffine(out, spec, g, fill);
  });
}
