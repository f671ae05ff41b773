#!/usr/bin/env python3
"""Reference values for sgdlab's tensor ops, computed by PyTorch.

Writes src/tensor/fixtures/ops.json: for every case, its inputs, PyTorch's outputs and, for
differentiable cases, the gradient of sum(output * R) with respect to each floating input
(R a fixed random cotangent stored in the file). src/tensor/ops.test.ts replays every case
through sgdlab under the same name. Also writes format.json: str(tensor) for printing tests.

Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_tensor_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'src', 'tensor', 'fixtures')
DT = {torch.float32: 'float32', torch.float64: 'float64', torch.int64: 'int64', torch.int32: 'int32', torch.uint8: 'uint8', torch.bool: 'bool'}
gen = torch.Generator().manual_seed(1234)


def randn(*shape):
    return torch.randn(*shape, generator=gen)


def positive(*shape):
    return torch.rand(*shape, generator=gen) + 0.5


def enc(t):
    t = t.detach()
    vals = t.reshape(-1).tolist()
    if t.dtype == torch.bool:
        vals = [1 if v else 0 for v in vals]
    vals = [v if not (isinstance(v, float) and not math.isfinite(v)) else str(v) for v in vals]
    return {'shape': list(t.shape), 'dtype': DT[t.dtype], 'data': vals}


cases = []


def case(name, inputs, fn, grad=True, **kw):
    """fn(*inputs, **kw) -> tensor or tuple of tensors. Grad: d/d(float inputs) of Σ out·R."""
    ins = [x.clone().requires_grad_(grad and x.is_floating_point()) for x in inputs]
    out = fn(*ins, **kw)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    entry = {'name': name, 'inputs': [enc(x) for x in inputs], 'kwargs': kw, 'outputs': [enc(o) for o in outs]}
    if grad:
        cot = [torch.randn(o.shape, generator=gen, dtype=o.dtype) if o.is_floating_point() else None for o in outs]
        total = sum((o * r).sum() for o, r in zip(outs, cot) if r is not None and o.requires_grad)
        diff = [x for x in ins if x.requires_grad]
        grads = torch.autograd.grad(total, diff, allow_unused=True)
        entry['cotangents'] = [enc(r) if r is not None else None for r in cot]
        entry['grads'] = [enc(g) if g is not None else None for g in grads]
    cases.append(entry)


a34, b34, b4, a234 = randn(3, 4), randn(3, 4), randn(4), randn(2, 3, 4)
p34 = positive(3, 4)
idx = torch.tensor([2, 0, 2], dtype=torch.int64)

# views and indexing
case('reshape', [a34], lambda x: x.reshape(2, 6))
case('view', [a34], lambda x: x.view(4, 3))
case('flatten', [a234], lambda x: x.flatten(1))
case('transpose', [a234], lambda x: x.transpose(0, 2))
case('permute', [a234], lambda x: x.permute(2, 0, 1))
case('squeeze', [randn(3, 1, 4)], lambda x: x.squeeze(1))
case('unsqueeze', [a34], lambda x: x.unsqueeze(-1))
case('narrow', [a34], lambda x: x.narrow(1, 1, 2))
case('slice_step', [a34], lambda x: x[:, 0:4:2])
case('select', [a34], lambda x: x.select(0, 1))
case('index_select', [a34, idx], lambda x, i: x.index_select(0, i))
case('gather', [a34, torch.tensor([[0, 1], [2, 3], [1, 1]])], lambda x, i: x.gather(1, i))
case('scatter_add', [a34, torch.tensor([[0, 1, 2, 0]]), randn(1, 4)], lambda x, i, s: x.scatter_add(0, i, s))
case('cat', [a34, b34], lambda x, y: torch.cat([x, y], 1))
case('stack', [a34, b34], lambda x, y: torch.stack([x, y], 0))
case('chunk', [a34], lambda x: x.chunk(2, 1))
case('split_sizes', [a34], lambda x: x.split([1, 3], 1))
case('expand', [randn(3, 1)], lambda x: x.expand(3, 4))
case('repeat', [randn(2, 3)], lambda x: x.repeat(2, 1))
case('flip', [a34], lambda x: x.flip([1]))
case('pad', [randn(1, 2, 3)], lambda x: F.pad(x, [1, 2, 0, 1], value=0.5))
case('masked_select', [a34], lambda x: x.masked_select(x > 0))

# elementwise
case('add_broadcast', [a34, b4], lambda x, y: x + y)
case('add_alpha', [a34, b34], lambda x, y: torch.add(x, y, alpha=-2.5))
case('add_scalar', [a34], lambda x: x + 1.5)
case('sub', [a34, b34], lambda x, y: x - y)
case('rsub', [a34], lambda x: 3 - x)
case('mul_broadcast', [a234, b4], lambda x, y: x * y)
case('div', [a34, p34], lambda x, y: x / y)
case('pow_scalar', [p34], lambda x: x ** 2.5)
case('pow_tensor', [p34, a34], lambda x, y: x ** y)
case('remainder', [a34], lambda x: torch.remainder(x, 0.7), grad=False)
case('maximum', [a34, b34], lambda x, y: torch.maximum(x, y))
case('minimum', [a34, b34], lambda x, y: torch.minimum(x, y))
case('maximum_scalar', [a34], lambda x: torch.clamp_min(x, 0.1))
case('eq', [torch.tensor([1., 2., 3.]), torch.tensor([1., 0., 3.])], lambda x, y: x == y, grad=False)
case('lt', [a34, b34], lambda x, y: x < y, grad=False)
case('ge_scalar', [a34], lambda x: x >= 0.0, grad=False)
case('int_times_float', [torch.tensor([1, 2, 3])], lambda x: x * 0.5, grad=False)
case('int_times_int', [torch.tensor([1, 2, 3])], lambda x: x * 2, grad=False)
for name in ['neg', 'exp', 'sin', 'cos', 'abs', 'sign', 'square', 'erf', 'floor', 'ceil', 'round', 'tanh', 'sigmoid', 'relu']:
    case(name, [a34], getattr(torch, name))
for name in ['log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal']:
    case(name, [p34], getattr(torch, name))
case('expm1', [a34], torch.expm1)
case('isnan', [torch.tensor([1.0, float('nan'), float('inf')])], torch.isnan, grad=False)
case('isfinite', [torch.tensor([1.0, float('nan'), float('inf')])], torch.isfinite, grad=False)
case('clamp', [a34], lambda x: x.clamp(-0.5, 0.5))
case('clamp_min_only', [a34], lambda x: x.clamp(min=-0.2))
case('where', [a34, b34], lambda x, y: torch.where(x > y, x, y))
case('where_scalar', [a34], lambda x: torch.where(x > 0, x, 0.0))

# reductions
case('sum_all', [a234], lambda x: x.sum())
case('sum_dims_keepdim', [a234], lambda x: x.sum([0, 2], keepdim=True))
case('mean_dim', [a234], lambda x: x.mean(1))
case('prod_dim', [a34], lambda x: x.prod(1))
case('var_dim', [a34], lambda x: x.var(1))
case('var_population', [a34], lambda x: x.var(0, unbiased=False))
case('std_all', [a34], lambda x: x.std())
case('max_all', [a34], lambda x: x.max())
case('max_dim', [a34], lambda x: tuple(x.max(1)))
case('min_dim_keepdim', [a34], lambda x: tuple(x.min(0, keepdim=True)))
case('argmax', [a34], lambda x: x.argmax(1), grad=False)
case('argmin_all', [a34], lambda x: x.argmin(), grad=False)
case('norm_2', [a34], lambda x: torch.linalg.vector_norm(x))
case('norm_1_dim', [a34], lambda x: torch.linalg.vector_norm(x, 1, dim=1))
case('norm_inf', [a34], lambda x: torch.linalg.vector_norm(x, float('inf')))
case('logsumexp', [a34], lambda x: x.logsumexp(1))
case('cumsum', [a34], lambda x: x.cumsum(1))

# linear algebra
sym = randn(4, 4)
sym = sym + sym.T
case('matmul_2d', [a34, randn(4, 5)], torch.matmul)
case('matmul_batched', [a234, randn(4, 2)], torch.matmul)
case('matmul_vector', [a34, b4], torch.matmul)
case('mm', [a34, randn(4, 2)], torch.mm)
case('bmm', [a234, randn(2, 4, 3)], torch.bmm)
case('dot', [b4, randn(4)], torch.dot)
case('outer', [b4, randn(3)], torch.outer)
case('eigh_values', [sym], lambda x: torch.linalg.eigh(x)[0], grad=False)
case('pinv', [randn(5, 3)], torch.linalg.pinv, grad=False)
case('solve', [randn(3, 3) + 3 * torch.eye(3), randn(3, 2)], torch.linalg.solve)

# neural-network functions
x_img = randn(2, 3, 8, 8)
case('linear', [randn(5, 4), randn(3, 4), randn(3)], F.linear)
case('linear_no_bias', [randn(5, 4), randn(3, 4)], F.linear)
case('conv2d', [x_img, randn(4, 3, 3, 3), randn(4)], lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1))
case('conv2d_stride_groups', [randn(1, 4, 7, 7), randn(6, 2, 3, 3)], lambda x, w: F.conv2d(x, w, None, stride=2, padding=0, groups=2))
case('conv2d_5x5_same', [randn(2, 1, 12, 12), randn(3, 1, 5, 5), randn(3)], lambda x, w, b: F.conv2d(x, w, b, padding=2))
case('max_pool2d', [x_img], lambda x: F.max_pool2d(x, 2))
case('max_pool2d_3s2', [x_img], lambda x: F.max_pool2d(x, 3, stride=2, padding=1))
case('avg_pool2d', [x_img], lambda x: F.avg_pool2d(x, 2))
rm, rv = randn(3), positive(3)
case('batch_norm_train', [randn(6, 3), positive(3), randn(3), rm, rv],
     lambda x, w, b, m, v: (lambda mm, vv: (F.batch_norm(x, mm, vv, w, b, training=True, momentum=0.1, eps=1e-5), mm, vv))(m.detach().clone(), v.detach().clone()))
case('batch_norm_train_2d', [randn(4, 3, 5, 5), positive(3), randn(3)], lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True))
case('batch_norm_eval', [randn(6, 3), positive(3), randn(3), rm, rv], lambda x, w, b, m, v: F.batch_norm(x, m.detach(), v.detach(), w, b, training=False))
case('gelu', [a34], F.gelu)
case('gelu_tanh', [a34], lambda x: F.gelu(x, approximate='tanh'))
case('softplus', [a34], lambda x: F.softplus(x, beta=2.0, threshold=20.0))
case('leaky_relu', [a34], lambda x: F.leaky_relu(x, 0.1))
case('softmax', [a34], lambda x: F.softmax(x, 1))
case('log_softmax', [a34], lambda x: F.log_softmax(x, 1))
labels = torch.tensor([0, 3, 1])
case('cross_entropy', [a34, labels], F.cross_entropy)
case('cross_entropy_sum', [a34, labels], lambda x, y: F.cross_entropy(x, y, reduction='sum'))
case('cross_entropy_none', [a34, labels], lambda x, y: F.cross_entropy(x, y, reduction='none'))
case('cross_entropy_smoothing', [a34, labels], lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1))
case('cross_entropy_ignore', [a34, torch.tensor([0, -100, 1])], lambda x, y: F.cross_entropy(x, y))
case('nll_loss', [F.log_softmax(a34, 1), labels], F.nll_loss)
case('mse_loss', [a34, b34], F.mse_loss)
case('mse_loss_sum', [a34, b34], lambda x, y: F.mse_loss(x, y, reduction='sum'))
case('bce_with_logits', [a34, torch.rand(3, 4, generator=gen)], F.binary_cross_entropy_with_logits)
case('one_hot', [labels], lambda y: F.one_hot(y, 5), grad=False)
case('unfold', [randn(2, 3, 5, 5)], lambda x: F.unfold(x, 3, padding=1, stride=2))

# lists (sgdlab's listDot / listNorm over parameter lists)
case('list_dot', [a34, b4, b34, randn(4)], lambda x, y, u, v: (x * u).sum() + (y * v).sum())
case('list_norm', [a34, b4], lambda x, y: torch.linalg.vector_norm(torch.cat([x.reshape(-1), y.reshape(-1)])))

# seeded random draws: the same engines as PyTorch's generators
random_cases = {
    'randn_seed0': enc(torch.randn(2, 5, generator=torch.Generator().manual_seed(0))),
    'randn_float64_seed7': enc(torch.randn(6, dtype=torch.float64, generator=torch.Generator().manual_seed(7))),
    'rand_seed1': enc(torch.rand(7, generator=torch.Generator().manual_seed(1))),
    'randint_seed2': enc(torch.randint(0, 10, (12,), generator=torch.Generator().manual_seed(2))),
    'randperm_seed3': enc(torch.randperm(10, generator=torch.Generator().manual_seed(3))),
    'normal_seed4': enc(torch.empty(5).normal_(1.0, 2.0, generator=torch.Generator().manual_seed(4))),
    'uniform_seed5': enc(torch.empty(5).uniform_(-1.0, 1.0, generator=torch.Generator().manual_seed(5))),
}
creation_cases = {
    'arange_float': enc(torch.arange(0, 1, 0.25)),
    'arange_int': enc(torch.arange(2, 11, 3)),
    'linspace': enc(torch.linspace(-1, 1, 5)),
    'eye_3x4': enc(torch.eye(3, 4)),
}

# printing
fmt = {}
def show(name, t):
    fmt[name] = {'tensor': enc(t), 'requires_grad': t.requires_grad, 'str': str(t)}
show('floats', torch.tensor([[1.0, 2.0], [3.0, 4.5]]))
show('ints', torch.tensor([1, -20, 300]))
show('bools', torch.tensor([True, False]))
show('int_valued_floats', torch.tensor([1.0, 2.0, -3.0]))
show('scientific', torch.tensor([1e-6, 1.0, 12345.678]))
show('large_sci', torch.tensor([1e9, 2.0]))
show('scalar', torch.tensor(3.25))
show('float64', torch.tensor([0.1, 0.2], dtype=torch.float64))
show('int32', torch.tensor([7, 8], dtype=torch.int32))
show('empty', torch.zeros(0))
show('empty_2d', torch.zeros(2, 0))
show('nonfinite', torch.tensor([1.5, float('nan'), float('inf'), -float('inf')]))
show('requires_grad', torch.tensor([1.0, 2.0], requires_grad=True))
show('wide_vector', torch.arange(40, dtype=torch.float32) / 7)
show('summarized', torch.arange(2000, dtype=torch.float32).reshape(40, 50) / 3)
show('summarized_1d', torch.arange(1500))
show('rank3', torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) - 11.5)
show('negative_zero', torch.tensor([-0.0, 0.5]))

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, 'ops.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases, 'random': random_cases, 'creation': creation_cases}, f)
with open(os.path.join(OUT, 'format.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': fmt}, f, indent=1)
print(f'wrote {len(cases)} op cases, {len(random_cases)} random, {len(creation_cases)} creation, {len(fmt)} format cases to {os.path.normpath(OUT)}')
