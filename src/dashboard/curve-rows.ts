/** A trial's stored metrics as the learning-curve figure draws them (server and client share this). */
import type { CurvePoint } from './api.js';

/** The panel a stored metric belongs to. */
export function panelOf(metric: string): string {
  if (metric === 'loss' || metric.endsWith('.loss')) return 'loss';
  if (metric.endsWith('accuracy')) return 'accuracy';
  if (metric === 'gradNorm') return 'gradient norm';
  if (metric === 'lr') return 'learning rate';
  return metric;
}

const LABELS: Record<string, string> = {
  loss: 'minibatch loss', 'train.loss': 'training loss', 'test.loss': 'test loss', 'validation.loss': 'validation loss',
  'train.accuracy': 'training accuracy', 'test.accuracy': 'test accuracy', 'validation.accuracy': 'validation accuracy', gradNorm: '‖g‖', lr: 'ε',
};

export const metricLabel = (metric: string) => LABELS[metric] ?? metric;

/** The name of the figure's data set, which the page replaces as new points arrive. */
export const CURVES_DATASET = 'curves';

export const curveRows = (points: readonly CurvePoint[]) => points.map((p) => ({ step: p.step, value: p.value, metric: metricLabel(p.metric), panel: panelOf(p.metric) }));
