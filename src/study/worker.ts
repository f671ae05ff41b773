/**
 * A study worker process: claims trials from the store until none is left, trains each, and records
 * the result, a subsample of its metrics, and failures (a crash of a trial is recorded, not fatal).
 * Started by the runner: node dist/src/study/worker.js DB STUDY train|measure (the second phase measures
 * trained trials from their checkpoints); its id is host:pid:start time. One libtorch thread.
 */
import { fileURLToPath } from 'node:url';
import { disposeSplits, prepareData, type DataSplits } from '../data/index.js';
import type { Module } from '../nn/index.js';
import { StationaryFluctuations } from '../measure/index.js';
import { loadCheckpoint, train, type TrainConfig, type TrainResult } from '../train/index.js';
import { measureModel } from './measure-trial.js';
import { measurementTarget } from './loss-levels.js';
import type { MeasurementKind, Study } from './schema.js';
import { canonicalJson, checkpointDir } from './trials.js';
import { isWorkerAlive, workerId } from './liveness.js';
import { SqliteStudyStore } from './sqlite-store.js';

/** What a worker tells the runner (over the IPC channel) about the work it holds. */
export type WorkerMessage =
  | { type: 'trial'; key: string; coordinates: Record<string, unknown>; step: number; totalSteps: number }
  | { type: 'measure'; key: string; kind: string; coordinates: Record<string, unknown> }
  | { type: 'idle' };

const tell = (m: WorkerMessage) => process.send?.(m);

/** Stores a subsample of a run's per-step metrics (at most about 200 steps) and every evaluation. */
function storeMetrics(store: SqliteStudyStore, study: string, key: string, history: TrainResult['history']): void {
  const every = Math.max(1, Math.ceil(history.steps.length / 200));
  store.addMetrics(study, key, [
    ...history.steps.filter((_, i) => i % every === 0).flatMap((m) => [
      { step: m.step, name: 'loss', value: m.loss }, { step: m.step, name: 'gradNorm', value: m.gradNorm }, { step: m.step, name: 'lr', value: m.lr },
    ]),
    ...history.evals.flatMap((e) => [
      { step: e.step, name: 'train.loss', value: e.train.loss }, { step: e.step, name: 'test.loss', value: e.test.loss },
      ...(e.train.accuracy !== null ? [{ step: e.step, name: 'train.accuracy', value: e.train.accuracy }] : []),
      ...(e.test.accuracy !== null ? [{ step: e.step, name: 'test.accuracy', value: e.test.accuracy }] : []),
      ...(e.validation?.accuracy != null ? [{ step: e.step, name: 'validation.accuracy', value: e.validation.accuracy }] : []),
    ]),
  ].filter((r) => Number.isFinite(r.value)));
}

/** Keeps one dataset loaded: trials of a study usually share their data. */
class DataCache {
  private cached: { key: string; data: DataSplits } | undefined;

  get(spec: TrainConfig['data']): DataSplits {
    const key = canonicalJson(spec);
    if (this.cached?.key !== key) {
      this.dispose();
      this.cached = { key, data: prepareData(spec) };
    }
    return this.cached.data;
  }

  dispose(): void {
    if (this.cached) disposeSplits(this.cached.data);
    this.cached = undefined;
  }
}

function trainTrials(store: SqliteStudyStore, db: string, study: Study, id: string, data: DataCache): void {
  for (let trial = store.claim(study.name, id, isWorkerAlive); trial; trial = store.claim(study.name, id, isWorkerAlive)) {
    const started = performance.now();
    const coordinates = trial.coordinates;
    const key = trial.key;
    const recording = study.record?.fluctuations;
    let fluctuations: StationaryFluctuations | undefined;
    try {
      // A study that measures its trials keeps their checkpoints (outside the configuration, so outside the key).
      const config = study.measure ? { ...trial.config, save: checkpointDir(db, study.name, key) } : trial.config;
      let lastSent = 0;
      const { result, model } = train(config, {
        data: data.get(config.data),
        hooks: {
          onStep: (ctx) => fluctuations?.hooks.onStep?.(ctx),
          onProgress: (p) => {
            // The burn-in as a fraction of the run is known once the trainer reports its total steps (after step 0).
            if (recording && !fluctuations) fluctuations = new StationaryFluctuations(recording.burnIn >= 1 ? Math.floor(recording.burnIn) : Math.max(1, Math.floor(recording.burnIn * p.totalSteps)), recording.maxFullDimension);
            const t = performance.now();
            if (t - lastSent < 250 && p.step < p.totalSteps) return;
            lastSent = t;
            tell({ type: 'trial', key, coordinates, step: p.step, totalSteps: p.totalSteps });
          },
        },
      });
      model.dispose();
      storeMetrics(store, study.name, key, result.history);
      let recorded: Record<string, unknown> = {};
      if (fluctuations) {
        try {
          const r = fluctuations.result();
          // Per-coordinate arrays only for small models (they have one entry per parameter).
          recorded = { fluctuations: r.weightMean.length <= (recording?.maxFullDimension ?? 64) ? r : { steps: r.steps, traceCovariance: r.traceCovariance, lossMean: r.lossMean, lossVariance: r.lossVariance } };
        } catch (error) {
          recorded = { fluctuationsError: (error as Error).message };
        }
      }
      const { history: _history, ...summary } = result;
      // The worker's peak resident memory so far (kB → MB): reported with every trial.
      const workerMaxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      store.finish(study.name, key, { status: result.status, result: { ...summary, ...recorded, workerMaxRssMb, trainSeconds: result.seconds } as unknown as Record<string, unknown>, seconds: (performance.now() - started) / 1000, checkpoint: result.checkpoint });
    } catch (error) {
      store.fail(study.name, key, (error as Error).message, (performance.now() - started) / 1000);
    } finally {
      fluctuations?.dispose();
    }
    tell({ type: 'idle' });
  }
}

function measureTrials(store: SqliteStudyStore, study: Study, id: string, data: DataCache): void {
  const measure = study.measure;
  if (!measure) return;
  for (let job = store.claimMeasurement(study.name, id, isWorkerAlive); job; job = store.claimMeasurement(study.name, id, isWorkerAlive)) {
    const started = performance.now();
    try {
      const trial = store.trial(study.name, job.key);
      if (!trial) throw new Error(`trial ${job.key} is not in the store`);
      const target = measurementTarget(measure, trial, job.spec);
      tell({ type: 'measure', key: job.key, kind: job.kind, coordinates: trial.coordinates });
      const { model } = loadCheckpoint(target.checkpoint);
      let partner: { model: Module; checkpoint: string; self: string } | undefined;
      try {
        if (job.kind === 'interpolate') {
          const key = (JSON.parse(job.spec) as { partner?: string }).partner;
          const checkpoint = key === undefined ? undefined : store.trial(study.name, key)?.checkpoint;
          if (!checkpoint) throw new Error(`the interpolation partner ${key} has no checkpoint`);
          partner = { model: loadCheckpoint(checkpoint).model, checkpoint, self: target.checkpoint };
        }
        const result = measureModel(job.kind as MeasurementKind, target.measure, model, trial.config, data.get(trial.config.data), partner);
        store.finishMeasurement(study.name, job, { ...result, seconds: (performance.now() - started) / 1000 }, (performance.now() - started) / 1000);
      } finally {
        model.dispose();
        partner?.model.dispose();
      }
    } catch (error) {
      store.failMeasurement(study.name, job, (error as Error).message, (performance.now() - started) / 1000);
    }
    tell({ type: 'idle' });
  }
}

function main(): void {
  const [db, name, phase] = process.argv.slice(2);
  if (!db || !name || (phase !== 'train' && phase !== 'measure')) throw new Error('usage: worker.js DB STUDY train|measure');
  const id = workerId();
  const store = new SqliteStudyStore(db);
  const data = new DataCache();
  try {
    const study = store.getStudy(name)?.study;
    if (!study) throw new Error(`no study '${name}' in ${db}`);
    if (phase === 'train') trainTrials(store, db, study, id, data);
    else measureTrials(store, study, id, data);
  } finally {
    data.dispose();
    store.close();
    process.disconnect?.();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
