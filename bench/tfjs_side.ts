/**
 * The same workloads in TensorFlow.js with its WebAssembly backend (single-threaded in Node),
 * the fastest TensorFlow.js backend that installs offline. Layouts are tfjs's: NHWC images,
 * [in, out] dense weights.
 */
// The union package, because it registers the gradients that tfjs-core alone lacks.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { LEARNING_RATE, type Workload } from './workloads.js';
import { medianStepMs, type TimingOptions } from './timing.js';

let ready: Promise<void> | undefined;
export async function tfjsReady(): Promise<void> {
  ready ??= tf.setBackend('wasm').then(async () => tf.ready());
  return ready;
}

/** Median ms per step, or the reason there is none (the wasm backend cannot train every model). */
export function runTfjs(w: Workload, timing: TimingOptions): number | string {
  if (w.workload !== 'mlp' && w.workload !== 'cnn') return 'not measured (no equivalent)';
  try {
    return tf.tidy(() => measure(w, timing));
  } catch (error) {
    return (error as Error).message;
  }
}

function measure(w: Workload, timing: TimingOptions): number {
  const v = (shape: number[]) => tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 0), 0.05));
  const isCnn = w.workload === 'cnn';
  const vars = isCnn
    ? [v([5, 5, 1, 32]), v([32]), v([5, 5, 32, 64]), v([64]), v([1024, 10]), v([10])]
    : [v([784, 512]), v([512]), v([512, 512]), v([512]), v([512, 10]), v([10])];
  const x = tf.randomNormal(isCnn ? [w.batch, 28, 28, 1] : [w.batch, 784], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([w.batch], 0, 10, 'int32', 2), 10);
  const [a, b, c, d, e, f] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const forward = (): tf.Scalar => {
    let logits: tf.Tensor;
    if (isCnn) {
      const c1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, a as unknown as tf.Tensor4D, 1, 'valid'), b)) as tf.Tensor4D, 2, 2, 'valid');
      const c2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(c1 as tf.Tensor4D, c as unknown as tf.Tensor4D, 1, 'valid'), d)) as tf.Tensor4D, 2, 2, 'valid');
      logits = tf.add(tf.matMul(tf.reshape(c2, [w.batch, 1024]), e), f);
    } else {
      const h1 = tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, a), b));
      const h2 = tf.relu(tf.add(tf.matMul(h1, c), d));
      logits = tf.add(tf.matMul(h2, e), f);
    }
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  };
  const optimizer = tf.train.sgd(LEARNING_RATE);
  const ms = medianStepMs(() => tf.tidy(() => { optimizer.minimize(forward, false, vars); }), timing);
  tf.dispose([...vars, x, y]);
  optimizer.dispose();
  return ms;
}
