/**
 * `npm start`: the main job on an embedded default. Until the training core lands (issue 3) this
 * is a small seeded run of full-batch-free minibatch SGD on synthetic Gaussian classes, written
 * directly on the tensor API; it prints the loss every epoch and the final accuracy.
 */
import * as T from '../tensor/index.js';

const N = 4096;
const D = 20;
const C = 4;
const BATCH = 64;
const LR = 0.1;
const EPOCHS = 5;

function main(): void {
  const g = new T.Generator(0);
  // Classes are Gaussian blobs around random means: x = μ_y + noise.
  const means = T.keep(T.randn([C, D], { generator: g }).mul(1.5));
  const y = T.keep(T.randint(0, C, [N], { generator: g }));
  const x = T.keep(T.tidy(() => means.indexSelect(0, y).add(T.randn([N, D], { generator: g }))));
  const w = T.keep(T.zeros([C, D]).requiresGrad_());
  const b = T.keep(T.zeros([C]).requiresGrad_());
  console.log(`sgdlab: softmax regression, N=${N}, D=${D}, C=${C}, batch ${BATCH}, lr ${LR}, libtorch ${T.libtorchVersion()}`);
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const order = T.randperm(N, { generator: g });
    let total = 0;
    for (let start = 0; start < N; start += BATCH) {
      total += T.tidy(() => {
        const idx = order.narrow(0, start, Math.min(BATCH, N - start));
        const loss = T.crossEntropy(T.linear(x.indexSelect(0, idx), w, b), y.indexSelect(0, idx));
        const grads = T.gradients([loss], [w, b]);
        T.noGrad(() => T.listAdd_([w, b], grads, -LR));
        return loss.item();
      });
    }
    order.dispose();
    console.log(`epoch ${epoch}: mean training loss ${(total / Math.ceil(N / BATCH)).toFixed(4)}`);
  }
  const accuracy = T.tidy(() => T.linear(x, w, b).argmax(1).eq(y).float().mean().item());
  console.log(`training accuracy ${(100 * accuracy).toFixed(2)}%`);
  T.dispose([means, x, y, w, b]);
}

main();
