#!/usr/bin/env python3
"""Reference training runs in PyTorch for src/train/pytorch.test.ts.

The same nn.Sequential as sgdlab's `mlp` with batch norm (Flatten, Linear 20→16, BatchNorm1d,
ReLU, Linear 16→4; state-dict keys 1.*, 2.*, 4.*), fixed data, a fixed minibatch order, and
100 steps of each optimizer. Writes src/train/fixtures/:
  init.safetensors   — the initial weights (written here with a minimal writer: Debian has no
                       python3-safetensors; the format is an 8-byte LE header length, JSON, data);
  training.json      — data, batch order, and for each optimizer the loss at every step and the
                       final state dict.
Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_training_fixtures.py
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'src', 'train', 'fixtures')
DTYPES = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64'}


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def model():
    return nn.Sequential(nn.Flatten(), nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))


g = torch.Generator().manual_seed(2024)
N, B, STEPS = 256, 32, 100
means = torch.randn(4, 20, generator=g) * 0.8
y = torch.randint(0, 4, (N,), generator=g)
x = means[y] + torch.randn(N, 20, generator=g)
order = torch.cat([torch.randperm(N, generator=g) for _ in range(STEPS * B // N + 1)])[: STEPS * B].reshape(STEPS, B)

torch.manual_seed(7)
init = model()
state0 = {k: v.clone() for k, v in init.state_dict().items()}

optimizers = {
    'sgd_momentum': lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=5e-4),
    'sgd_nesterov': lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    'adam': lambda p: torch.optim.Adam(p, lr=1e-3),
    'adamw': lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.01),
}
runs = {}
for name, make in optimizers.items():
    m = model()
    m.load_state_dict(state0)
    m.train()
    opt = make(m.parameters())
    losses = []
    for step in range(STEPS):
        idx = order[step]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(x[idx]), y[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    runs[name] = {
        'losses': losses,
        'final': {k: {'shape': list(v.shape), 'data': v.reshape(-1).tolist()} for k, v in m.state_dict().items()},
    }

os.makedirs(OUT, exist_ok=True)
save_safetensors(os.path.join(OUT, 'init.safetensors'), state0)
with open(os.path.join(OUT, 'training.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'x': x.reshape(-1).tolist(), 'xShape': list(x.shape), 'y': y.tolist(),
               'order': order.tolist(), 'runs': runs}, f)
print(f'wrote {len(runs)} reference runs of {STEPS} steps to {os.path.normpath(OUT)}')
