#!/usr/bin/env python3
"""Reference training runs in PyTorch for src/train/pytorch.test.ts.

The same nn.Sequential as sgdlab's `mlp` with batch norm (Flatten, Linear 20→16, BatchNorm1d,
ReLU, Linear 16→4; state-dict keys 1.*, 2.*, 4.*), fixed data, a fixed minibatch order, and
100 steps of each optimizer. Writes src/train/fixtures/:
  init.safetensors   — the initial weights (written here with a minimal writer: Debian has no
                       python3-safetensors; the format is an 8-byte LE header length, JSON, data);
  training.json      — data, batch order, and for each optimizer the loss at every step, the
                       final state dict, the final network's train-mode outputs (logits) on all N
                       inputs, and 2.running_mean less the same running average of 1.bias.

1.bias, the bias of the Linear layer that batch norm follows, has gradient zero in exact
arithmetic (batch norm subtracts the batch mean): what is computed is rounding noise, and Adam
divides it by its own running RMS into steps of size lr, so its final value (and 2.running_mean,
which averages it in) depends on the BLAS kernels, not on the mathematics. The train-mode outputs
do not depend on it, nor does running_mean − c with c_{t+1} = (1 − 0.1)·c_t + 0.1·b_t (b_t the
bias at step t's forward, c_0 = 0): that is the running average of mean(W_t x) alone.
The test compares those instead of Adam's 1.bias.
Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_training_fixtures.py
"""
import copy
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
    bias_average = torch.zeros(16, dtype=torch.float64)  # c_t, batch norm's running average of 1.bias
    for step in range(STEPS):
        idx = order[step]
        bias_average = 0.9 * bias_average + 0.1 * m[1].bias.detach().double()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(x[idx]), y[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    probe = copy.deepcopy(m)  # train mode: batch statistics of all N inputs (its running statistics are discarded)
    with torch.no_grad():
        outputs = probe(x)
        running_mean_less_bias = m[2].running_mean.double() - bias_average
    runs[name] = {
        'losses': losses,
        'final': {k: {'shape': list(v.shape), 'data': v.reshape(-1).tolist()} for k, v in m.state_dict().items()},
        'outputs': outputs.reshape(-1).tolist(),
        'runningMeanLessBias': running_mean_less_bias.tolist(),
    }

os.makedirs(OUT, exist_ok=True)
save_safetensors(os.path.join(OUT, 'init.safetensors'), state0)
with open(os.path.join(OUT, 'training.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'x': x.reshape(-1).tolist(), 'xShape': list(x.shape), 'y': y.tolist(),
               'order': order.tolist(), 'runs': runs}, f)
print(f'wrote {len(runs)} reference runs of {STEPS} steps to {os.path.normpath(OUT)}')
