#!/usr/bin/env python3
"""Reference runs of scipy's fmin_l_bfgs_b for src/measure/lbfgsb-native.test.ts.

Each case is a box-constrained problem whose objective both sides evaluate with the same float64
arithmetic in the same order (plain Python floats here, plain JavaScript numbers there; the small
network in PyTorch here and in sgdlab's libtorch binding there), started from the same point with
scipy's defaults (m = 10, factr = 1e7, pgtol = 1e-5) unless the case says otherwise. For every case
the fixture holds the problem, every iterate x_k that scipy's callback sees, f(x_k), and scipy's
final message, iteration count and evaluation count. sgdlab must reproduce the iterates to 1e-8
relative.

Cases: convex quadratics ½xᵀQx − bᵀx with bounds of every kind (both, lower only, upper only, none),
one started at its stationary point (stops at iteration 0 on pgtol); Rosenbrock in 2-D with x ≤ 0.5;
the 25-variable test problem of L-BFGS-B's own driver1 (an extended Rosenbrock with bounds); a tiny
MLP (4 → 6 tanh → 3, cross-entropy on 24 fixed examples) minimized in a box around its weights; and
Keskar's sharpness problem on it: the loss maximized over an ε-box, 10 iterations.

Run with Debian's python3-scipy and python3-torch:  /usr/bin/python3 tools/reference/make_lbfgsb_fixtures.py
(Debian's scipy 1.10 drives the same liblbfgsb.so.0 that sgdlab's addon links.)
"""
import json
import os

import numpy as np
import scipy
import torch
from scipy.optimize import fmin_l_bfgs_b

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'src', 'measure', 'fixtures', 'lbfgsb-scipy.json')


def quadratic(Q, b):
    n = len(b)

    def fg(x):
        x = [float(v) for v in x]
        qx = [0.0] * n
        for i in range(n):
            s = 0.0
            for j in range(n):
                s += Q[i][j] * x[j]
            qx[i] = s
        f = 0.0
        for i in range(n):
            f += 0.5 * x[i] * qx[i] - b[i] * x[i]
        g = [qx[i] - b[i] for i in range(n)]
        return f, np.array(g)
    return fg


def rosenbrock2(x):
    a, c = float(x[0]), float(x[1])
    r = c - a * a
    f = 100.0 * r * r + (1.0 - a) * (1.0 - a)
    return f, np.array([-400.0 * a * r - 2.0 * (1.0 - a), 200.0 * r])


def driver1(x):
    """f = 0.25(x₁ − 1)² + Σ_{i≥2} 4(x_i − x_{i−1}²)², L-BFGS-B's driver1.f."""
    x = [float(v) for v in x]
    n = len(x)
    t1 = x[1] - x[0] * x[0]
    g = [0.0] * n
    g[0] = 2.0 * (x[0] - 1.0) - 16.0 * x[0] * t1
    f = 0.25 * (x[0] - 1.0) * (x[0] - 1.0)
    for i in range(1, n - 1):
        t2 = t1
        t1 = x[i + 1] - x[i] * x[i]
        g[i] = 8.0 * t2 - 16.0 * x[i] * t1
        f += t2 * t2
    f += t1 * t1
    f = 4.0 * f
    g[n - 1] = 8.0 * t1
    return f, np.array(g)


def mlp_case(seed):
    """A tiny MLP 4 → 6 (tanh) → 3 and 24 examples; θ = [W1 (6×4), b1, W2 (3×6), b2] row-major."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(24, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (24,), generator=gen)
    theta0 = torch.randn(6 * 4 + 6 + 3 * 6 + 3, generator=gen, dtype=torch.float64) * 0.5

    def loss(theta):
        w1 = theta[0:24].reshape(6, 4)
        b1 = theta[24:30]
        w2 = theta[30:48].reshape(3, 6)
        b2 = theta[48:51]
        h = torch.tanh(torch.nn.functional.linear(x, w1, b1))
        return torch.nn.functional.cross_entropy(torch.nn.functional.linear(h, w2, b2), y)

    def fg(v, sign=1.0, offset=None):
        t = torch.tensor(v, dtype=torch.float64)
        if offset is not None:
            t = offset + t
        t.requires_grad_(True)
        f = loss(t)
        (g,) = torch.autograd.grad(f, t)
        return sign * f.item(), sign * g.numpy().astype(np.float64)
    return x, y, theta0, fg


def run(name, fg, x0, bounds, note, **kw):
    iterates = []

    def callback(xk):
        iterates.append({'x': [float(v) for v in xk], 'f': float(fg(xk)[0])})
    x, f, d = fmin_l_bfgs_b(fg, np.array(x0, dtype=np.float64), bounds=bounds, callback=callback, **kw)
    return {
        'name': name, 'note': note,
        'x0': [float(v) for v in x0],
        'lower': [None if b[0] is None else float(b[0]) for b in bounds],
        'upper': [None if b[1] is None else float(b[1]) for b in bounds],
        'options': {'m': kw.get('m', 10), 'factr': kw.get('factr', 1e7), 'pgtol': kw.get('pgtol', 1e-5), 'maxiter': kw.get('maxiter', 15000)},
        'iterates': iterates,
        'x': [float(v) for v in x], 'f': float(f),
        'message': d['task'], 'nit': int(d['nit']), 'nfev': int(d['funcalls']), 'warnflag': int(d['warnflag']),
    }


cases = []
rng = np.random.default_rng(13)

# Convex quadratics with bounds of every kind.
for k, n in enumerate([5, 8]):
    A = rng.standard_normal((n, n))
    Q = (A @ A.T / n + 0.5 * np.eye(n)).tolist()
    b = (3 * rng.standard_normal(n)).tolist()
    kinds = [(-1.0, 1.0), (0.0, None), (None, 0.5), (None, None), (-0.2, 0.3)]
    bounds = [kinds[i % len(kinds)] for i in range(n)]
    x0 = rng.uniform(-0.5, 0.5, n).tolist()
    cases.append({**run(f'quadratic-{n}', quadratic(Q, b), x0, bounds, 'convex quadratic, mixed bounds'), 'kind': 'quadratic', 'Q': Q, 'b': b})

# A quadratic started at its (interior) minimizer: the projected gradient is 0, so iteration 0 stops.
Q = [[2.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.25, 3.0]]
xs = [0.25, -0.5, 0.125]
b = [sum(Q[i][j] * xs[j] for j in range(3)) for i in range(3)]
cases.append({**run('quadratic-stationary-start', quadratic(Q, b), xs, [(-1.0, 1.0)] * 3, 'start at the minimizer: stops at iteration 0'), 'kind': 'quadratic', 'Q': Q, 'b': b})

cases.append({**run('rosenbrock-2', rosenbrock2, [-1.2, 1.0], [(-2.0, 0.5), (-2.0, 2.0)], 'Rosenbrock, x ≤ 0.5: minimum (0.5, 0.25) on the bound'), 'kind': 'rosenbrock2'})

n = 25
bounds = [(1.0, 100.0) if i % 2 == 0 else (-100.0, 100.0) for i in range(n)]
cases.append({**run('driver1-25', driver1, [3.0] * n, bounds, "L-BFGS-B's driver1 problem (n = 25, m = 5, factr = 1e7, pgtol = 1e-5)", m=5), 'kind': 'driver1'})
cases.append({**run('driver1-25-maxiter-10', driver1, [3.0] * n, bounds, 'the same with the paper\'s 10 iterations and m = 10: stops on the iteration limit', maxiter=10), 'kind': 'driver1'})

x, y, theta0, fg = mlp_case(7)
t0 = theta0.tolist()
net = {'inputs': x.tolist(), 'targets': y.tolist(), 'theta0': t0, 'hidden': 6, 'classes': 3}
cases.append({**run('mlp-minimize', fg, t0, [(v - 0.5, v + 0.5) for v in t0], 'tiny MLP, cross-entropy minimized in a ±0.5 box around θ₀'), 'kind': 'mlp', 'network': net})

eps = 1e-2
offset = theta0.clone()
half = [eps * (abs(v) + 1.0) for v in t0]
sharp = lambda v: fg(v, sign=-1.0, offset=offset)
cases.append({**run('mlp-sharpness', sharp, [0.0] * len(t0), [(-h, h) for h in half], "Keskar's problem: max f(θ₀ + y) over |y_i| ≤ ε(|θ₀_i| + 1), ε = 1e-2, 10 iterations", maxiter=10),
              'kind': 'mlp-sharpness', 'network': net, 'epsilon': eps})

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as fh:
    json.dump({'generator': 'tools/reference/make_lbfgsb_fixtures.py', 'scipy': scipy.__version__, 'torch': torch.__version__, 'cases': cases}, fh, indent=1)
    fh.write('\n')
for c in cases:
    print(f"{c['name']}: {c['nit']} iterations, {c['nfev']} evaluations, {c['message']}, f = {c['f']:.10g}")
