#!/usr/bin/env python3
"""Reference values in PyTorch for src/measure/landscape.test.ts: batch-norm statistics recomputed
along an interpolation path.

Two endpoint models of sgdlab's `mlp` with batch norm (Flatten, Linear 6→8, BatchNorm1d, ReLU,
Linear 8→8, BatchNorm1d, ReLU, Linear 8→3; state-dict keys 1.*, 2.*, 4.*, 5.*, 7.*) with different
weights and running statistics. At each α of the linear path (1 − α)·A + α·B and the curved path
cos(απ/2)·A + sin(απ/2)·B, the mixed weights are loaded into a probe and its batch-norm statistics
recomputed with torch.optim.swa_utils.update_bn over a fixed random subset of the data (drawn with
torch.Generator().manual_seed(SEED), the stream sgdlab's T.Generator(SEED) reproduces) in batches of
BATCH; then the eval-mode cross-entropy on the evaluation data. Writes src/measure/fixtures/batchnorm-recompute.json.
Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_measure_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import update_bn

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'src', 'measure', 'fixtures')
N, SUBSET, BATCH, SEED = 96, 64, 16, 3
ALPHAS = [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]


def model():
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


g = torch.Generator().manual_seed(2025)
x = torch.randn(N, 6, generator=g)
y = torch.randint(0, 3, (N,), generator=g)


def endpoint(seed, var_scale):
    torch.manual_seed(seed)
    m = model()
    with torch.no_grad():
        for i in (2, 5):
            m[i].running_mean.copy_(torch.randn(8, generator=g) * 0.5)
            m[i].running_var.copy_(torch.rand(8, generator=g) * var_scale + 0.05)
            m[i].weight.copy_(1 + 0.3 * torch.randn(8, generator=g))
            m[i].bias.copy_(0.2 * torch.randn(8, generator=g))
            m[i].num_batches_tracked.fill_(17 if seed == 1 else 5)
    return m


a, b = endpoint(1, 3.0), endpoint(2, 0.3)
perm = torch.randperm(N, generator=torch.Generator().manual_seed(SEED))[:SUBSET]
loader = [x[perm][i:i + BATCH] for i in range(0, SUBSET, BATCH)]


def state(m):
    return {k: {'shape': list(v.shape), 'data': v.reshape(-1).tolist()} for k, v in m.state_dict().items()}


paths = {}
for curved in (False, True):
    points = []
    for alpha in ALPHAS:
        ca, cb = (math.cos(alpha * math.pi / 2), math.sin(alpha * math.pi / 2)) if curved else (1 - alpha, alpha)
        mixed = {k: (ca * va + cb * b.state_dict()[k]) if va.is_floating_point() else va for k, va in a.state_dict().items()}
        probe = model()
        probe.load_state_dict(mixed)
        probe.eval()
        with torch.no_grad():
            mixed_loss = F.cross_entropy(probe(x), y).item()
        update_bn(loader, probe)
        probe.eval()
        with torch.no_grad():
            loss = F.cross_entropy(probe(x), y).item()
        stats = {k: v.reshape(-1).tolist() for k, v in probe.state_dict().items() if 'running' in k}
        points.append({'alpha': alpha, 'loss': loss, 'mixedBuffersLoss': None if math.isnan(mixed_loss) else mixed_loss, 'statistics': stats})
    paths['curved' if curved else 'linear'] = points

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, 'batchnorm-recompute.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'x': x.reshape(-1).tolist(), 'xShape': list(x.shape), 'y': y.tolist(),
               'subset': SUBSET, 'batchSize': BATCH, 'seed': SEED, 'a': state(a), 'b': state(b), 'paths': paths}, f)
print(f'wrote {sum(len(p) for p in paths.values())} points to {os.path.normpath(OUT)}/batchnorm-recompute.json')
