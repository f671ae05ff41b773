/**
 * The benchmark's workloads, shared by every side (sgdlab, PyTorch, TensorFlow.js):
 *   mlp: 784-512-512-10 with ReLU, cross-entropy, plain SGD (lr 0.01);
 *   cnn: conv 32@5×5 → ReLU → maxpool 2 → conv 64@5×5 → ReLU → maxpool 2 → linear 1024→10 on 1×28×28;
 *   mlp-grad / mlp-hvp: one gradient, and one Hessian-vector product by double backward, of the mlp loss;
 *   f1-epoch: one epoch of Keskar's F1 on MNIST (60,000 images in memory, normalized), Adam 1e-3,
 *             random reshuffling, the whole batch through the model at once; milliseconds per epoch.
 *   f1-top-eigenvalue: the top Hessian eigenvalue of a (freshly initialized) keskar-f1 on 10,000 MNIST
 *             images by power iteration as PyHessian does it, 5 iterations on both sides (equal work:
 *             5 Hessian-vector products over the data in chunks of 1,000), model in evaluation mode;
 *   noise-stats: sgdlab's per-example noise statistics on the same data; the table's PyTorch column
 *             holds one full-data gradient by sgdlab, so the ratio is the cost relative to a gradient.
 *   adversarial-none / -fgsm / -pgd3 / -pgd7: one Adam step of keskar-f1 on a fixed MNIST batch, after
 *             replacing it by adversarial examples (L∞, ε = 0.1 pixels, attack in eval mode): none, FGSM,
 *             PGD with 3 or 7 steps from a random start (issue 15: the cost of adversarial training,
 *             FGSM ≈ 2×, PGD-k ≈ (k + 1)× a step).
 *   f1-objective-running / f1-objective-batch: the loss and its gradient (one f and ∇f, as each iteration
 *             of the sharpness maximization needs) of a freshly initialized keskar-f1 on all 60,000 MNIST
 *             training images (issue 21: the cost of Keskar's objective): running — batch norm by its
 *             running statistics (evaluation mode), in chunks of 1,000 (MEASURE_CHUNK_SIZE); batch — by
 *             the statistics of the evaluated examples in batches of `batch` (10,000: the keskar
 *             built-in's; 60,000: all as one batch, Keskar et al.'s), PyTorch in train mode with
 *             momentum 0 so its running statistics stay as they were; the batch column is the batch-norm
 *             batch (running: the examples); milliseconds per f and ∇f.
 * Step workloads use fixed random tensors, so only compute and dispatch are timed (no data loading).
 */
export type WorkloadName = 'mlp' | 'cnn' | 'mlp-grad' | 'mlp-hvp' | 'f1-epoch' | 'f1-top-eigenvalue' | 'noise-stats'
  | 'adversarial-none' | 'adversarial-fgsm' | 'adversarial-pgd3' | 'adversarial-pgd7' | 'f1-objective-running' | 'f1-objective-batch';
/** Workloads that time one long run (several rounds of one run each) rather than steps. */
export const LONG_WORKLOADS: readonly WorkloadName[] = ['f1-epoch', 'f1-top-eigenvalue', 'noise-stats', 'f1-objective-running', 'f1-objective-batch'];

export interface Workload {
  workload: WorkloadName;
  batch: number;
}

export const WORKLOADS: readonly Workload[] = [
  ...[32, 128, 512, 2048].map((batch) => ({ workload: 'mlp' as const, batch })),
  ...[32, 256].map((batch) => ({ workload: 'cnn' as const, batch })),
  { workload: 'mlp-grad', batch: 512 },
  { workload: 'mlp-hvp', batch: 512 },
  { workload: 'f1-epoch', batch: 256 },
  { workload: 'f1-epoch', batch: 6000 },
  { workload: 'f1-top-eigenvalue', batch: 10000 },
  { workload: 'noise-stats', batch: 10000 },
  ...(['adversarial-none', 'adversarial-fgsm', 'adversarial-pgd3', 'adversarial-pgd7'] as const).map((workload) => ({ workload, batch: 256 })),
  { workload: 'f1-objective-running', batch: 60000 },
  { workload: 'f1-objective-batch', batch: 10000 },
  { workload: 'f1-objective-batch', batch: 60000 },
];

export const LEARNING_RATE = 0.01;
