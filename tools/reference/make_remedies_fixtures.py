#!/usr/bin/env python3
"""Reference values for Keskar et al.'s remedies (issue 15), computed by PyTorch.

Writes
  src/data/fixtures/affine.json — the affine augmentation: (1) the ops affine_grid and grid_sample with
      their gradients (the cotangent R is stored; grads are d/d(inputs) of sum(out * R)); (2) rotations
      and translations of images as torchvision's tensor `affine` computes them (its inverse matrix in
      pixel units about the image centre and its own pixel grid, re-implemented here since Debian has no
      python3-torchvision), and with a fill value as the image padded with that value then rotated about
      the same centre and cropped back (an independent route to "outside the image is the fill value").
  src/train/fixtures/adversarial.json — FGSM and PGD (L-inf and L2, no random start) on small MLPs, the
      attack taken in raw pixel space [0, 1] through the normalization (x_raw = x * std + mean), clamped
      to [0, 1]; with batch norm in evaluation mode and in training mode (batch statistics; the running
      statistics are restored after the attack).

Legend: N = batch, C = channels, H, W = image size.
Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_remedies_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
gen = torch.Generator().manual_seed(1515)


def enc(t):
    t = t.detach()
    return {'shape': list(t.shape), 'dtype': 'float32' if t.dtype == torch.float32 else 'float64' if t.dtype == torch.float64 else 'int64', 'data': t.reshape(-1).tolist()}


# ---- affine: the ops -------------------------------------------------------------------------------
ops = []
theta = torch.randn(2, 2, 3, generator=gen) * 0.5 + torch.tensor([[1.0, 0, 0], [0, 1.0, 0]])
size = [2, 3, 5, 7]
for align in (False, True):
    th = theta.clone().requires_grad_(True)
    out = F.affine_grid(th, size, align_corners=align)
    r = torch.randn(out.shape, generator=gen)
    (g,) = torch.autograd.grad((out * r).sum(), [th])
    ops.append({'name': f'affine_grid_align{int(align)}', 'theta': enc(theta), 'size': size, 'alignCorners': align, 'output': enc(out), 'cotangent': enc(r), 'gradTheta': enc(g)})

img = torch.randn(2, 3, 5, 7, generator=gen)
grid = torch.rand(2, 4, 6, 2, generator=gen) * 2.4 - 1.2  # some points fall outside the image
for mode in ('bilinear', 'nearest'):
    for padding in ('zeros', 'border', 'reflection'):
        for align in (False, True):
            x = img.clone().requires_grad_(True)
            gr = grid.clone().requires_grad_(mode == 'bilinear')
            out = F.grid_sample(x, gr, mode=mode, padding_mode=padding, align_corners=align)
            r = torch.randn(out.shape, generator=gen)
            wrt = [x, gr] if mode == 'bilinear' else [x]
            grads = torch.autograd.grad((out * r).sum(), wrt)
            ops.append({'name': f'grid_sample_{mode}_{padding}_align{int(align)}', 'x': enc(img), 'grid': enc(grid), 'mode': mode, 'paddingMode': padding,
                        'alignCorners': align, 'output': enc(out), 'cotangent': enc(r), 'gradX': enc(grads[0]), **({'gradGrid': enc(grads[1])} if len(grads) > 1 else {})})


# ---- affine: torchvision's rotation and translation ---------------------------------------------------
def inverse_affine_matrix(angle_ccw, tx, ty):
    """torchvision.transforms.functional._get_inverse_affine_matrix for a rotation (counter-clockwise
    degrees, as F.rotate passes -angle to it) and a translation in pixels, centre at the image centre
    (coordinates relative to it), scale 1, no shear."""
    rot = math.radians(-angle_ccw)
    a, b, c, d = math.cos(rot), -math.sin(rot), math.sin(rot), math.cos(rot)
    m = [d, -b, 0.0, -c, a, 0.0]
    m[2] += m[0] * (-tx) + m[1] * (-ty)
    m[5] += m[3] * (-tx) + m[4] * (-ty)
    return m


def torchvision_affine(images, matrices):
    """torchvision.transforms.functional_tensor._gen_affine_grid + grid_sample (bilinear, zeros)."""
    n, _, h, w = images.shape
    outs = []
    for i in range(n):
        th = torch.tensor(matrices[i], dtype=torch.float64).reshape(1, 2, 3)
        base = torch.empty(1, h, w, 3, dtype=torch.float64)
        base[..., 0].copy_(torch.linspace(-w * 0.5 + 0.5, w * 0.5 - 0.5, steps=w, dtype=torch.float64))
        base[..., 1].copy_(torch.linspace(-h * 0.5 + 0.5, h * 0.5 - 0.5, steps=h, dtype=torch.float64).unsqueeze(-1))
        base[..., 2].fill_(1)
        rescaled = th.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=torch.float64)
        grid_i = base.view(1, h * w, 3).bmm(rescaled).view(1, h, w, 2)
        outs.append(F.grid_sample(images[i:i + 1].double(), grid_i, mode='bilinear', padding_mode='zeros', align_corners=False))
    return torch.cat(outs, 0).float()


transforms = []
square = torch.rand(1, 1, 6, 6, generator=gen)
params = [(90.0, 0, 0)]
transforms.append({'name': 'rot90_square', 'x': enc(square), 'angles': [p[0] for p in params], 'shifts': [[p[1], p[2]] for p in params],
                   'output': enc(torchvision_affine(square, [inverse_affine_matrix(*p) for p in params]))})
mnist_like = torch.rand(4, 1, 28, 28, generator=gen)
params = [(10.0, 0, 0), (-7.5, 3, -2), (0.0, -5, 4), (4.0, 6, 6)]
transforms.append({'name': 'mnist_like', 'x': enc(mnist_like), 'angles': [p[0] for p in params], 'shifts': [[p[1], p[2]] for p in params],
                   'output': enc(torchvision_affine(mnist_like, [inverse_affine_matrix(*p) for p in params]))})
wide = torch.rand(3, 3, 7, 9, generator=gen)
params = [(30.0, -1, 2), (-45.0, 0, 0), (0.0, 2, -1)]
transforms.append({'name': 'rgb_non_square', 'x': enc(wide), 'angles': [p[0] for p in params], 'shifts': [[p[1], p[2]] for p in params],
                   'output': enc(torchvision_affine(wide, [inverse_affine_matrix(*p) for p in params]))})
# With a fill value per channel: pad by P with the fill, transform the padded image about the same centre, crop.
fill = [-0.5, 0.25, 1.5]
P = 8
padded = torch.cat([F.pad(wide[:, c:c + 1], [P, P, P, P], value=fill[c]) for c in range(3)], 1)
filled = torchvision_affine(padded, [inverse_affine_matrix(*p) for p in params])[:, :, P:P + 7, P:P + 9]
transforms.append({'name': 'rgb_non_square_fill', 'x': enc(wide), 'angles': [p[0] for p in params], 'shifts': [[p[1], p[2]] for p in params], 'fill': fill, 'output': enc(filled)})

os.makedirs(os.path.join(ROOT, 'src', 'data', 'fixtures'), exist_ok=True)
with open(os.path.join(ROOT, 'src', 'data', 'fixtures', 'affine.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'ops': ops, 'transforms': transforms}, f)


# ---- adversarial examples ----------------------------------------------------------------------------
MEAN, STD = 0.3, 0.25


def attack(model, x_norm, y, norm, eps, steps, step_size):
    """Madry et al.'s PGD without random start (steps = 1, step size = eps: Goodfellow et al.'s FGSM),
    in raw pixel space, clamped to [0, 1]. The loss is the mean cross-entropy on the attacked examples."""
    raw0 = x_norm * STD + MEAN
    raw = raw0.clone()
    for _ in range(steps):
        raw.requires_grad_(True)
        loss = F.cross_entropy(model((raw - MEAN) / STD), y)
        (g,) = torch.autograd.grad(loss, [raw])
        raw = raw.detach()
        if norm == 'linf':
            raw = raw + step_size * g.sign()
            raw = torch.min(torch.max(raw, raw0 - eps), raw0 + eps)
        else:
            gn = g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (g.dim() - 1))
            raw = raw + step_size * g / gn
            delta = raw - raw0
            dn = delta.flatten(1).norm(dim=1).view(-1, *[1] * (g.dim() - 1))
            raw = raw0 + delta * torch.clamp(eps / dn.clamp_min(1e-12), max=1.0)
        raw = raw.clamp(0, 1)
    return (raw - MEAN) / STD, raw - raw0


def state(model):
    return {k: enc(v) for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}


torch.manual_seed(15)
n = 6
raw_images = torch.rand(n, 1, 4, 4, generator=gen)
raw_images[0, 0, 0, :2] = torch.tensor([0.0, 1.0])  # pixels at the edges of the valid range
x_norm = (raw_images - MEAN) / STD
labels = torch.randint(0, 3, (n,), generator=gen)
plain = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
with_bn = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
with torch.no_grad():
    with_bn[2].running_mean.copy_(torch.randn(8, generator=gen) * 0.3)
    with_bn[2].running_var.copy_(torch.rand(8, generator=gen) + 0.5)

# The FGSM gradient itself, to check ε·sign(∇ₓℓ) directly.
raw = (x_norm * STD + MEAN).requires_grad_(True)
(grad_raw,) = torch.autograd.grad(F.cross_entropy(plain((raw - MEAN) / STD), labels), [raw])

cases = []
for name, model, mode, norm, eps, steps, step_size in [
    ('fgsm_linf', plain, 'eval', 'linf', 0.1, 1, 0.1),
    ('fgsm_l2', plain, 'eval', 'l2', 0.5, 1, 0.5),
    ('pgd_linf', plain, 'eval', 'linf', 0.1, 5, 0.03),
    ('pgd_l2', plain, 'eval', 'l2', 0.5, 5, 0.2),
    ('fgsm_linf_bn_eval', with_bn, 'eval', 'linf', 0.1, 1, 0.1),
    ('fgsm_linf_bn_train', with_bn, 'train', 'linf', 0.1, 1, 0.1),
    ('pgd_linf_bn_train', with_bn, 'train', 'linf', 0.05, 3, 0.02),
]:
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    model.train(mode == 'train')
    adv, delta = attack(model, x_norm, labels, norm, eps, steps, step_size)
    model.load_state_dict(saved)  # the attack's forward passes leave the running statistics as they were
    cases.append({'name': name, 'batchNorm': model is with_bn, 'mode': mode, 'norm': norm, 'epsilon': eps, 'steps': steps, 'stepSize': step_size,
                  'adversarial': enc(adv), 'delta': enc(delta)})

os.makedirs(os.path.join(ROOT, 'src', 'train', 'fixtures'), exist_ok=True)
with open(os.path.join(ROOT, 'src', 'train', 'fixtures', 'adversarial.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'mean': MEAN, 'std': STD, 'x': enc(x_norm), 'y': labels.tolist(),
               'plain': state(plain), 'withBatchNorm': state(with_bn), 'gradRaw': enc(grad_raw), 'cases': cases}, f)
print(f'wrote {len(ops)} affine op cases, {len(transforms)} transforms, {len(cases)} adversarial cases')
