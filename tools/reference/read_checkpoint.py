#!/usr/bin/env python3
"""Opens an sgdlab checkpoint in PyTorch, as src/train/checkpoint.test.ts asks.

usage: read_checkpoint.py MODEL.safetensors < inputs.json  →  prints the model's outputs as JSON.
Parses the safetensors file the way safetensors.torch.load does (Debian ships no
python3-safetensors): 8-byte little-endian header length, JSON header, raw little-endian data.
The model is the nn.Sequential of sgdlab's `mlp` with batch norm: Flatten, Linear 20→16,
BatchNorm1d(16), ReLU, Linear 16→4; load_state_dict(strict=True) checks every key and shape.
"""
import json
import struct
import sys

import torch
import torch.nn as nn

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8, 'BOOL': torch.bool}

raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
state = {}
for name, entry in header.items():
    if name == '__metadata__':
        continue
    begin, end = entry['data_offsets']
    state[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[entry['dtype']]).reshape(entry['shape'])

model = nn.Sequential(nn.Flatten(), nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))
model.load_state_dict(state, strict=True)
model.eval()
x = torch.tensor(json.load(sys.stdin), dtype=torch.float32)
with torch.no_grad():
    print(json.dumps({'metadata': header.get('__metadata__', {}), 'outputs': model(x).reshape(-1).tolist()}))
