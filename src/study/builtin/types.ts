/** A built-in study: a paper's protocol as study files of three sizes. */
import type { StudyInput } from '../schema.js';

export type BuiltinSize = 'smoke' | 'quick' | 'full';
export const BUILTIN_SIZES: readonly BuiltinSize[] = ['smoke', 'quick', 'full'];

export interface BuiltinStudy {
  name: string;
  paper: string;
  description: string;
  /** smoke: seconds (CI); quick: about 10 minutes on 2 CPU cores; full: the paper's scale, for a larger machine. */
  sizes: Record<BuiltinSize, () => StudyInput>;
  /** A study's own further sizes (keskar's 'paper': one seed of the paper's protocol trained to convergence). */
  extraSizes?: Record<string, () => StudyInput>;
}

/** Every size a built-in study has. */
export const sizesOf = (b: BuiltinStudy): string[] => [...BUILTIN_SIZES, ...Object.keys(b.extraSizes ?? {})];
