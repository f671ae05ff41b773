#!/usr/bin/env python3
"""Qian & Klabjan's Monte Carlo of Var(g_k | w0) as a PyTorch user writes it: for each batch size and each
of R independent batch sequences, copy w0, run k SGD steps on fresh minibatches, take the minibatch
gradient at step k; the variance over sequences (sum of squared deviations / (R - 1)). Every k in the
list from one run per sequence (the gradient at step k is the one update k uses). One thread.

Reads {"dim", "n", "widths", "sequences", "batch_sizes", "steps", "lr", "replacement"} on stdin; prints
{"seconds", "cpu_seconds", "variances": [[...per b...] per k]}.
"""
import json
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(1)


def model(dim, widths):
    sizes = [dim, *widths, 1]
    return nn.Sequential(*[nn.Linear(a, b, bias=False) for a, b in zip(sizes, sizes[1:])])


def main():
    o = json.load(sys.stdin)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(o['n'], o['dim'], generator=g)
    y = x.sum(1, keepdim=True) / 4  # a unit-norm teacher, as the sgdlab side
    torch.manual_seed(0)
    w0 = model(o['dim'], o['widths'])
    steps, last = o['steps'], max(o['steps'])
    start, cpu0 = time.perf_counter(), time.process_time()
    variances = [[0.0] * len(o['batch_sizes']) for _ in steps]
    for j, b in enumerate(o['batch_sizes']):
        samples = {k: [] for k in steps}
        for r in range(o['sequences']):
            net = model(o['dim'], o['widths'])
            net.load_state_dict(w0.state_dict())
            params = list(net.parameters())
            gen = torch.Generator().manual_seed(1_000_003 * b + r)
            for k in range(last + 1):
                idx = torch.randint(0, o['n'], (b,), generator=gen) if o['replacement'] else torch.randperm(o['n'], generator=gen)[:b]
                loss = 0.5 * ((net(x[idx]) - y[idx]) ** 2).mean()
                grads = torch.autograd.grad(loss, params)
                if k in samples:
                    samples[k].append(torch.cat([t.flatten() for t in grads]).double())
                if k < last:
                    with torch.no_grad():
                        for p, t in zip(params, grads):
                            p.sub_(o['lr'] * t)
        for i, k in enumerate(steps):
            G = torch.stack(samples[k])
            v = ((G - G.mean(0)) ** 2).sum(1).sum().item() / (len(G) - 1)
            variances[i][j] = v if v == v and abs(v) != float('inf') else None
    json.dump({'seconds': time.perf_counter() - start, 'cpu_seconds': time.process_time() - cpu0, 'variances': variances}, sys.stdout)


if __name__ == '__main__':
    main()
