#!/usr/bin/env python3
"""Reference values in PyTorch and scipy for src/measure/objective-convention.test.ts: the training
objective under the 'batch' batch-norm convention (src/measure/objective.ts), Keskar et al. 2017's.

The network is sgdlab's `mlp` with batch norm (Flatten, Linear 6→8, BatchNorm1d, ReLU, Linear 8→8,
BatchNorm1d, ReLU, Linear 8→3; state-dict keys 1.*, 2.*, 4.*, 5.*, 7.*) holding float32 weights and
deliberately wrong running statistics, on N = 96 examples. Every value is computed in float64 from those
float32 weights (the reference is the exact function; sgdlab evaluates it in float32):
  - 'batch', whole set: the model in train() mode with momentum 0 on all N examples as one batch (batch
    norm by the batch's mean and biased variance; momentum 0 leaves the running statistics as they
    were), cross-entropy: f, ∇f, the dense Hessian's largest eigenvalue (torch.autograd.functional.hessian,
    numpy's eigh);
  - 'batch' in chunks of B = 40 (40, 40, 16 examples, each normalized by its own statistics): f and ∇f of
    the mean per-example loss;
  - 'batch' with the predicted probability clipped to [c, 1 − c], c = 0.25 (it clips many of these examples): f and ∇f;
  - 'running' (eval mode): f;
  - Keskar's φ in the full space with ε = EPS under both conventions: scipy's fmin_l_bfgs_b (scipy's
    defaults, 10 iterations) maximizing f(θ + y) over |y_i| ≤ ε(|θ_i| + 1), with every iterate.
Gradients are flattened in the order of the parameters (1.weight, 1.bias, 2.weight, 2.bias, …).
Run with Debian's python3-torch and python3-scipy:  /usr/bin/python3 tools/reference/make_batchnorm_convention_fixtures.py
"""
import json
import os

import numpy as np
import scipy
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.optimize import fmin_l_bfgs_b

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'src', 'measure', 'fixtures', 'batchnorm-convention.json')
N, CHUNK, CLIP, EPS = 96, 40, 0.25, 5e-2


def model():
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


torch.manual_seed(11)
net = model()
g = torch.Generator().manual_seed(2026)
with torch.no_grad():
    for i in (2, 5):
        net[i].weight.copy_(1 + 0.3 * torch.randn(8, generator=g))
        net[i].bias.copy_(0.2 * torch.randn(8, generator=g))
        net[i].running_mean.copy_(torch.randn(8, generator=g))
        net[i].running_var.copy_(torch.rand(8, generator=g) * 3 + 0.05)
x = torch.randn(N, 6, generator=g)
y = torch.randint(0, 3, (N,), generator=g)
state32 = {k: v.clone() for k, v in net.state_dict().items()}

net64 = model().double()
net64.load_state_dict(state32)
for i in (2, 5):
    net64[i].momentum = 0.0
names = [k for k, _ in net64.named_parameters()]
shapes = [p.shape for p in net64.parameters()]
theta0 = torch.cat([p.detach().reshape(-1) for p in net64.parameters()])
x64 = x.double()


def unflatten(theta):
    out, o = {}, 0
    for k, s in zip(names, shapes):
        n = int(np.prod(s))
        out[k] = theta[o:o + n].reshape(s)
        o += n
    return out


def per_example(theta, xs, ys, training, clip=None):
    params = unflatten(theta)
    buffers = {k: v.clone() for k, v in net64.named_buffers()}
    net64.train(training)
    logits = torch.func.functional_call(net64, {**params, **buffers}, (xs,)) if hasattr(torch, 'func') else \
        torch.nn.utils.stateless.functional_call(net64, {**params, **buffers}, (xs,))
    losses = F.cross_entropy(logits, ys, reduction='none')
    if clip is not None:
        c32 = float(np.float32(clip)); d32 = float(np.float32(1 - clip))
        losses = losses.clamp(-np.log(d32), -np.log(c32))
    return losses


def f_batch(theta, chunk=None, clip=None):
    if chunk is None:
        return per_example(theta, x64, y, True, clip).mean()
    return sum(per_example(theta, x64[s:s + chunk], y[s:s + chunk], True, clip).sum() for s in range(0, N, chunk)) / N


def f_running(theta):
    return per_example(theta, x64, y, False).mean()


def value_grad(fn, theta):
    t = theta.clone().requires_grad_(True)
    v = fn(t)
    (gr,) = torch.autograd.grad(v, t)
    return v.item(), gr.tolist()


def sharpness(fn):
    half = (EPS * (theta0.abs() + 1)).numpy()
    iterates = []

    def fg(yv):
        v, gr = value_grad(fn, theta0 + torch.tensor(yv, dtype=torch.float64))
        return -v, -np.array(gr)

    def callback(yk):
        iterates.append({'x': [float(v) for v in yk], 'f': float(fg(yk)[0])})
    yv, fmin, d = fmin_l_bfgs_b(fg, np.zeros_like(half), bounds=list(zip(-half, half)), maxiter=10, callback=callback)
    f0 = fn(theta0).item()
    return {'f0': f0, 'maxLoss': -float(fmin), 'phi': (-float(fmin) - f0) / (1 + f0) * 100, 'iterates': iterates,
            'nit': int(d['nit']), 'nfev': int(d['funcalls']), 'message': d['task']}


before = {k: v.clone() for k, v in net64.named_buffers()}
fb, gb = value_grad(f_batch, theta0)
fc, gc = value_grad(lambda t: f_batch(t, CHUNK), theta0)
fk, gk = value_grad(lambda t: f_batch(t, None, CLIP), theta0)
fr, gr = value_grad(f_running, theta0)
H = torch.autograd.functional.hessian(f_batch, theta0)
eig = np.linalg.eigvalsh(H.numpy())
phi = {'batch': sharpness(f_batch), 'running': sharpness(f_running)}
for k, v in net64.named_buffers():
    assert torch.equal(v, before[k]), f'{k} changed'

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as fh:
    json.dump({
        'generator': 'tools/reference/make_batchnorm_convention_fixtures.py', 'torch': torch.__version__, 'scipy': scipy.__version__,
        'x': x.reshape(-1).tolist(), 'xShape': list(x.shape), 'y': y.tolist(),
        'state': {k: {'shape': list(v.shape), 'data': v.reshape(-1).tolist()} for k, v in state32.items()},
        'parameters': names, 'chunk': CHUNK, 'clip': CLIP, 'epsilon': EPS,
        'batch': {'loss': fb, 'gradient': gb, 'hessianTop': [float(v) for v in eig[::-1][:3]], 'hessianBottom': float(eig[0])},
        'batchChunks': {'loss': fc, 'gradient': gc},
        'batchClipped': {'loss': fk, 'gradient': gk},
        'running': {'loss': fr, 'gradient': gr},
        'sharpness': phi,
    }, fh)
    fh.write('\n')
print(f'batch f {fb:.8g}, chunks f {fc:.8g}, clipped f {fk:.8g}, running f {fr:.8g}; λ_max (batch) {eig[-1]:.8g}, next {eig[-2]:.6g}, λ_min {eig[0]:.6g}')
for k, v in phi.items():
    print(f"φ({k}, ε={EPS}) = {v['phi']:.8g}: {v['nit']} iterations, {v['nfev']} evaluations, {v['message']}")
