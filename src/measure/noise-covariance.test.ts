/** The noise covariance operator, its top eigenvalues and its alignment with H, against dense matrices on a small network. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { buildModel } from '../nn/index.js';
import { Objective, noiseCovarianceOperator, noiseCovarianceTopEigenvalues, noiseHessianAlignment, perExampleGradients } from './index.js';

const flat = (v: T.Tensor[]) => T.cat(v.map((t) => t.flatten()), 0);

test('C·v, the top eigenvalues of C, and tr(HC)/(‖H‖‖C‖) match the dense matrices', () => {
  const g = new T.Generator(7);
  const model = buildModel({ name: 'mlp', widths: [4], activation: 'tanh' }, { inputShape: [5], outputs: 3 }, g);
  const x = T.keep(T.randn([80, 5], { generator: g }));
  const y = T.keep(T.randint(0, 3, [80], { generator: g }));
  const params = model.parameters();
  const n = params.reduce((s, p) => s + p.numel, 0);
  T.tidy(() => {
    const per = perExampleGradients(model, x, y, 'cross-entropy').double(); // [80, P]
    const centered = per.sub(per.mean(0));
    const C = centered.t().matmul(centered).div(80);
    const loss = T.crossEntropy(model.forward(x), y);
    const grad = flat(T.gradients([loss], params, { createGraph: true }));
    const H0 = T.stack(Array.from({ length: n }, (_, i) => flat(T.gradients([grad.select(0, i)], params, { retainGraph: true }))), 0).double();
    const H = H0.add(H0.t()).div(2);
    // C·v
    const op = noiseCovarianceOperator(model, x, y, 'cross-entropy', { chunkSize: 30 });
    const v = T.randn([n], { generator: new T.Generator(8) });
    let offset = 0;
    const vs = params.map((p) => { const part = v.narrow(0, offset, p.numel).reshape(p.shape); offset += p.numel; return part; });
    assertClose(flat(op.apply(vs)).double(), C.matmul(v.double()), { rtol: 1e-3, atol: 1e-6 });
    T.dispose(op.gradient);
    // Top eigenvalues of C by Lanczos (n steps: exact).
    const exactC = (T.eigh(C).eigenvalues.toArray() as number[]).sort((a, b) => b - a);
    const top = noiseCovarianceTopEigenvalues(model, x, y, 'cross-entropy', { topK: 3, maxIter: n });
    top.eigenvalues.forEach((e, i) => assert.ok(Math.abs(e - exactC[i]!) < 1e-3 * exactC[0]!, `λ_${i}(C) ${e} vs ${exactC[i]}`));
    // Alignment.
    const trHC = H.mul(C.t()).sum().item();
    const exactCos = trHC / (H.square().sum().sqrt().item() * C.square().sum().sqrt().item());
    const objective = new Objective(model, x, y, 'cross-entropy');
    const a = noiseHessianAlignment(objective, { probes: 400, topK: 2, maxIter: n, seed: 9 });
    assert.ok(Math.abs(a.cosine - exactCos) < 4 * a.cosineStandardError, `cosine ${a.cosine} ± ${a.cosineStandardError} vs ${exactCos}`);
    assert.ok(a.cosineStandardError < 0.02, `the standard error over 400 probes is small (${a.cosineStandardError})`);
    assert.ok(a.cost.hessianVectorProducts >= 400 && a.cost.covarianceVectorProducts >= 400 && a.cost.seconds > 0, `the cost is reported: ${JSON.stringify(a.cost)}`);
    const uH = T.eigh(H).eigenvectors;
    const uC = T.eigh(C).eigenvectors;
    const m = uH.shape[1]!;
    const topH = uH.narrow(1, m - 2, 2);
    const topC = uC.narrow(1, m - 2, 2);
    const exactOverlap = topH.t().matmul(topC).square().sum().item() / 2;
    assert.ok(Math.abs(a.overlap - exactOverlap) < 1e-2, `overlap ${a.overlap} vs ${exactOverlap}`);
  });
  model.dispose();
  T.dispose([x, y]);
});
