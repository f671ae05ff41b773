/**
 * Test and benchmark helpers of the dashboard: studies written into a real store through its
 * interface, with made-up results instead of training (the store and the server cannot tell), and
 * Chromium driven by playwright-core (Debian's /usr/bin/chromium; never a downloaded browser).
 */
import { parseStudy, expandTrials, type Study, type StudyStore } from '../study/index.js';
import { sgdlabVersion } from '../train/version.js';

export interface SyntheticOptions {
  name: string;
  batchSizes: number[];
  lrs: number[];
  seeds: number;
  /** Per-step loss rows stored for each finished trial (plus 10 evaluations of 2 metrics). */
  stepsStored?: number;
  /** Leave the last `pending` trials unclaimed and `running` claimed but unfinished. */
  pending?: number;
  running?: number;
  /** Fail every n-th trial with this error (HTML included on purpose by the tests). */
  failEvery?: number;
  error?: string;
  description?: string;
}

export function syntheticStudy(o: SyntheticOptions): Study {
  return parseStudy({
    name: 'placeholder',
    ...(o.description !== undefined ? { description: o.description } : {}),
    base: { model: { name: 'linear-regression' }, data: { name: 'linear-regression', trainSize: 4096 }, optimizer: { name: 'sgd', lr: 0.1 }, batchSize: 8, budget: { steps: 100 } },
    select: 'testAccuracy',
    grid: { batchSize: o.batchSizes, 'optimizer.lr': o.lrs, seed: Array.from({ length: o.seeds }, (_, i) => i) },
  }, 'synthetic study');
}

/** A made-up test accuracy with an optimum at ε ∝ B (linear scaling), and seed noise. */
export const syntheticAccuracy = (batchSize: number, lr: number, seed: number) =>
  0.95 - 0.02 * Math.log2(batchSize / 8) * 0.3 - 0.04 * Math.log2(lr / (0.0125 * batchSize)) ** 2 * 0.25 + 0.002 * Math.sin(7 * seed + batchSize);

/**
 * Writes a study with made-up results into `store`: every trial claimed and finished (or failed)
 * through the store's interface, with per-step losses and evaluations as metrics. The study's name
 * may be anything (the tests use HTML): it bypasses the study file's name rule, as a store written by
 * another tool could.
 */
export async function writeSyntheticStudy(store: StudyStore, o: SyntheticOptions): Promise<Study> {
  const study = { ...syntheticStudy(o), name: o.name };
  const trials = expandTrials(study, sgdlabVersion());
  await store.upsertStudy(study, trials);
  const finishing = trials.length - (o.pending ?? 0);
  for (let i = 0; i < finishing; i++) {
    const t = await store.claim(study.name, `synthetic:${process.pid}:0`);
    if (!t) break;
    if (i >= finishing - (o.running ?? 0)) continue;
    const b = t.config.batchSize as number;
    const lr = t.config.optimizer.lr;
    if (o.failEvery && i % o.failEvery === o.failEvery - 1) {
      await store.fail(study.name, t.key, t.attempt, o.error ?? 'synthetic failure', 0.5);
      continue;
    }
    const acc = syntheticAccuracy(b, lr, t.config.seed);
    const steps = o.stepsStored ?? 20;
    const rows: { step: number; name: string; value: number }[] = [];
    for (let s = 0; s < steps; s++) rows.push({ step: s * 5, name: 'loss', value: 2 * Math.exp(-s / (steps / 3)) + 0.05 * Math.sin(s + t.config.seed) + 0.1 });
    for (let e = 1; e <= 10; e++) rows.push({ step: e * steps / 2, name: 'test.accuracy', value: acc * (1 - Math.exp(-e / 2)) }, { step: e * steps / 2, name: 'train.loss', value: 0.1 + 1 / e });
    await store.addMetrics(study.name, t.key, t.attempt, rows);
    await store.finish(study.name, t.key, t.attempt, {
      status: 'completed',
      seconds: 1 + (i % 7),
      result: { status: 'completed', steps: 100, batchSize: b, train: { loss: 0.1 + (1 - acc), accuracy: acc + 0.03 }, test: { loss: 0.2 + (1 - acc), accuracy: acc }, seconds: 1 },
    });
  }
  return study;
}

/** Debian's Chromium (scripts/setup.sh installs it); playwright-core never downloads a browser here. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for headless Chromium as root on a closed network: no sandbox (root), no GPU, and none of
 * its own connections (background networking, component updates, sync, QUIC), which this machine's
 * network refuses and which would leave the page's origin.
 */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Starts Chromium, or fails saying why (a test that needs it must fail, not skip). */
export async function launchChromium(): Promise<import('playwright-core').Browser> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium (apt-get install chromium)`);
  const { chromium } = await import('playwright-core');
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  } catch (error) {
    throw new Error(`Chromium (${CHROMIUM}) did not start: ${(error as Error).message}`);
  }
}
