/**
 * A study worker process: claims trials from the store until none is left (or it must stop), trains
 * each, and records the result with its metrics and checkpoint, or the failure (a crash of a trial is
 * recorded, not fatal). Every claim carries an attempt number; results go back with it, and the store
 * refuses them if the claim was taken over meanwhile (this worker was paused or cut off past its lease).
 * A heartbeat thread renews the lease while the main thread computes. A study with `pack` has the
 * worker claim further trials of a claimed trial's pack and train them together (packing.ts), each
 * stored with its own attempt (and, when the study prunes, pruned at the rungs on its own: trainPack).
 * Started by the runner: SGDLAB_DB=URL node dist/src/study/worker.js STUDY train|measure OPTIONS-JSON SCRATCH-DIR (the second
 * phase measures trained trials from their checkpoints); its id is host:pid:start time. One libtorch thread.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { disposeSplits, prepareData, splitsOnDevice, type DataSplits } from '../data/index.js';
import type { Device } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { StationaryFluctuations } from '../measure/index.js';
import { checkedDevice, loadCheckpoint, train, type TrainConfig, type TrainHooks, type TrainResult } from '../train/index.js';
import { attemptDir, keepSnapshotFiles, localCheckpoint, readSnapshotFiles, readTrialArtifacts, restoreSnapshotFiles } from './artifacts.js';
import { Heartbeat } from './heartbeat.js';
import { MetricSampler } from './live-metrics.js';
import { measureModel } from './measure-trial.js';
import { measurementTarget } from './loss-levels.js';
import { MEASUREMENT_KINDS, isMeasurementKind, type Study } from './schema.js';
import { canonicalJson } from './trials.js';
import { hostId, isWorkerAlive, workerId } from './liveness.js';
import { openStore } from './store-factory.js';
import { IN_STORE, type StoredTrial, type StudyStore, type WorkerHolding } from './store.js';
import { storedMeasurementResult, storedTrialResult, type TrialResult } from './records.js';
import { PruneGroups, RungClock, decideAtRung, rungValue, trainPruned, type PrunedAt } from './prune-trial.js';
import { pruneMetric, type PruneMetric, type PruneRule } from './pruning.js';
import { PackPlanner, studyPacking, type PackDecision, type PackRecord } from './packing.js';
import { PackedRun, type PackRung, type PackedProgress } from '../train/packed.js';

/** The study's pack planner, if its trials may be packed. */
function packPlanner(study: Study): PackPlanner | undefined {
  const spec = studyPacking(study);
  return spec && new PackPlanner(study, spec);
}

/** How a worker claims: its lease and heartbeat periods, and where checkpoints go (IN_STORE or a directory). */
export interface WorkerOptions {
  leaseSeconds: number;
  heartbeatSeconds: number;
  artifacts: string;
}

/** What a worker tells the runner (over the IPC channel) about the work it holds. */
export type WorkerMessage =
  | { type: 'trial'; key: string; coordinates: Record<string, unknown>; step: number; totalSteps: number }
  | { type: 'measure'; key: string; kind: string; coordinates: Record<string, unknown> }
  | { type: 'idle' };

const tell = (m: WorkerMessage) => process.send?.(m);

interface Context {
  store: StudyStore;
  study: Study;
  id: string;
  options: WorkerOptions;
  heartbeat: Heartbeat;
  data: DataCache;
  /** The groups of competing trials, when the study prunes. */
  pruneGroups: PruneGroups | undefined;
  /** What packs trials together, when the study packs (packing.ts). */
  packing: PackPlanner | undefined;
  /** This worker's scratch folder (checkpoints on their way to the store, checkpoints read from it): the pool's, removed by it. */
  scratch: string;
}

/** Why this worker must stop claiming, if it must (the store unreachable longer than its lease). */
const mustStop = (c: Context) => c.heartbeat.trouble;

/** Claims unless this worker must stop; a claim that fails even after the store's retries (as long as the lease) stops it too. */
async function claimOrStop<T>(c: Context, claim: () => Promise<T | undefined>): Promise<T | undefined> {
  if (mustStop(c)) return undefined;
  try {
    return await claim();
  } catch (error) {
    c.heartbeat.trouble ??= `cannot claim from the study store: ${(error as Error).message}`;
    return undefined;
  }
}

/** Awaits `call` and hands its wall time in ms to `took`. */
async function timed<T>(call: () => Promise<T>, took: (ms: number) => void): Promise<T> {
  const started = performance.now();
  try {
    return await call();
  } finally {
    took(performance.now() - started);
  }
}

/** Keeps one dataset loaded, on the trials' device: trials of a study usually share their data. */
class DataCache {
  private cached: { key: string; data: DataSplits } | undefined;

  get(spec: TrainConfig['data'], device: Device): DataSplits {
    const key = `${device}\n${canonicalJson(spec)}`;
    if (this.cached?.key !== key) {
      this.dispose();
      const prepared = prepareData(spec);
      const data = splitsOnDevice(prepared, device);
      if (data !== prepared) disposeSplits(prepared);
      this.cached = { key, data };
    }
    return this.cached.data;
  }

  dispose(): void {
    if (this.cached) disposeSplits(this.cached.data);
    this.cached = undefined;
  }
}

/** A trial's stationary-fluctuation recorder, made once the run's length is known (its burn-in may be a fraction of it). */
interface FluctuationRecorder {
  fluctuations?: StationaryFluctuations;
}

/** The trainer's hooks for a claimed trial: sampled metrics to the store, progress to the heartbeat and the runner. */
function trialHooks(c: Context, trial: StoredTrial, sampler: MetricSampler, recorder: FluctuationRecorder): TrainHooks {
  const recording = c.study.record?.fluctuations;
  const { key, attempt, coordinates } = trial;
  let lastSent = 0;
  return {
    onStep: (ctx) => {
      sampler.step(ctx.metrics);
      recorder.fluctuations?.hooks.onStep?.(ctx);
    },
    onEval: (e) => sampler.eval(e),
    onProgress: (p) => {
      sampler.setTotalSteps(p.totalSteps);
      // The burn-in as a fraction of the run is known once the trainer reports its total steps (after step 0).
      if (recording && !recorder.fluctuations) {
        const burnIn = recording.burnIn >= 1 ? Math.floor(recording.burnIn) : Math.max(1, Math.floor(recording.burnIn * p.totalSteps));
        recorder.fluctuations = new StationaryFluctuations(burnIn, recording.maxFullDimension);
      }
      const t = performance.now();
      if (t - lastSent < 250 && p.step < p.totalSteps) return;
      lastSent = t;
      c.heartbeat.progress(p.step, p.totalSteps, p.loss);
      c.heartbeat.metrics(key, attempt, sampler.take());
      tell({ type: 'trial', key, coordinates, step: p.step, totalSteps: p.totalSteps });
    },
  };
}

/** What the fluctuation recorder adds to a result: per-coordinate arrays only for small models (one entry per parameter). */
function recordedFluctuations(fluctuations: StationaryFluctuations | undefined, maxFullDimension: number): Record<string, unknown> {
  if (!fluctuations) return {};
  try {
    const r = fluctuations.result();
    return { fluctuations: r.weightMean.length <= maxFullDimension ? r : { steps: r.steps, traceCovariance: r.traceCovariance, lossMean: r.lossMean, lossVariance: r.lossVariance } };
  } catch (error) {
    return { fluctuationsError: (error as Error).message };
  }
}

/** Claim and finish latencies (the previous finish's: a result cannot carry its own), for the benchmark's claim + finish. */
interface Latency {
  claimMs: number;
  finishMs?: number;
}

/**
 * Where a trial's files go: `keep`, its kept checkpoint (a study that measures its trials: in this
 * attempt's own folder, or in scratch on its way into the store; outside the configuration, so outside
 * the key); `save`, where it trains to: a pruned study pauses its trials at rungs, and a reopened pruned
 * trial (the only claimable one with a checkpoint) resumes from its snapshot, so both save, in scratch
 * when no checkpoint is kept.
 */
function trialPaths(c: Context, trial: StoredTrial): { keep: string | undefined; save: string | undefined } {
  const { key, attempt } = trial;
  const keep = !c.study.measure ? undefined : c.options.artifacts === IN_STORE ? join(c.scratch, `${key}-attempt-${attempt}`) : attemptDir(c.options.artifacts, c.study.name, key, attempt);
  return { keep, save: keep ?? (c.study.prune || trial.checkpoint !== null ? join(c.scratch, `${key}-attempt-${attempt}`) : undefined) };
}

/** What storeEnded needs of a trial's run besides its result. */
interface EndedRun {
  started: number;
  keep: string | undefined;
  save: string | undefined;
  sampler: MetricSampler;
  /** Extra fields of the stored result (recorded fluctuations, how it was packed). */
  extra: Record<string, unknown>;
  /** It resumed from a snapshot (which goes once it has ended). */
  resumed: boolean;
  latency: Latency;
}

/** Stores a trial that ended (completed or diverged) with its attempt; false if the store refused it (a stale attempt). */
async function storeEnded(c: Context, trial: StoredTrial, result: TrainResult, run: EndedRun): Promise<boolean> {
  const { store, study, options, heartbeat } = c;
  const { key, attempt } = trial;
  const { history: _history, ...summary } = result;
  // The worker's peak resident memory so far (kB → MB): reported with every trial.
  const workerMaxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const inStore = run.keep !== undefined && options.artifacts === IN_STORE && result.checkpoint !== undefined;
  await heartbeat.flushMetrics(); // the sampled rows already sent are stored before the result
  return timed(() => store.finish(study.name, key, attempt, {
    status: result.status,
    // The claim's latency and the previous finish's (the store's round trips and locks), for the benchmark.
    // Checked as the store will keep it (records.ts).
    result: storedTrialResult({ ...summary, ...run.extra, workerMaxRssMb, trainSeconds: result.seconds, claimMs: run.latency.claimMs, finishMs: run.latency.finishMs }, study.name, key),
    seconds: (performance.now() - run.started) / 1000,
    checkpoint: inStore ? IN_STORE : run.keep && result.checkpoint,
    // A resumed trial's snapshot goes once it has ended (its checkpoint files, if kept, replace it).
    ...(inStore ? { artifacts: readTrialArtifacts(run.save!, result.lossLevels ?? []) } : run.resumed ? { artifacts: [] } : {}),
    metrics: run.sampler.take(),
  }), (ms) => (run.latency.finishMs = ms));
}

/** A pruned trial's result as stored: its result at the rung, where and why it was pruned, and `extra` (how it was packed). */
function prunedResult(c: Context, key: string, result: TrainResult, pruned: PrunedAt, latency: Latency, extra: Record<string, unknown> = {}): TrialResult {
  const { history: _h, status: _s, checkpoint: _c, ...atRung } = result;
  return storedTrialResult({ ...atRung, pruned, ...extra, workerMaxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), trainSeconds: result.seconds, claimMs: latency.claimMs }, c.study.name, key);
}

/** Removes a trial's save folder unless it is the checkpoint kept in its attempt's folder (and stored). */
function removeSave(c: Context, paths: { keep: string | undefined; save: string | undefined }, accepted: boolean): void {
  if (paths.save && (paths.save !== paths.keep || c.options.artifacts === IN_STORE || !accepted)) rmSync(paths.save, { recursive: true, force: true });
}

function reportRefused(c: Context, trial: StoredTrial, accepted: boolean): void {
  if (!accepted) process.stderr.write(`worker ${c.id}: the result of trial ${trial.key} (attempt ${trial.attempt}) was refused: the trial was claimed again while this worker was out of reach\n`);
}

/** Trains one claimed trial alone (pruned at rungs when the study prunes) and stores its result. */
async function trainOne(c: Context, trial: StoredTrial, latency: Latency, packed?: PackRecord): Promise<void> {
  const { store, study, options, heartbeat, data } = c;
  const started = performance.now();
  const { key, attempt } = trial;
  heartbeat.holds({ kind: 'trial', key, attempt });
  const recording = study.record?.fluctuations;
  const recorder: FluctuationRecorder = {};
  const paths = trialPaths(c, trial);
  const { keep, save } = paths;
  let accepted = true;
  try {
    const config = save ? { ...trial.config, save } : trial.config;
    // Sampled losses and evaluations go to the store as the trial trains (its curves grow on the dashboard).
    const sampler = new MetricSampler();
    const hooks = trialHooks(c, trial, sampler, recorder);
    const trialData = data.get(config.data, checkedDevice(config));
    // A reopened trial (its study's pruning rule relaxed) resumes from the snapshot it left in the store.
    const resumeFrom = save ? await restoreSnapshotFiles(store, trial, save) : undefined;
    const run = study.prune && c.pruneGroups
      ? await trainPruned({ store, study, rule: study.prune, groups: c.pruneGroups, key, attempt, config, data: trialData, hooks, resumeFrom, onRungEval: (e) => sampler.eval(e) })
      : { kind: 'ended' as const, ...train(config, { data: trialData, hooks, resume: resumeFrom !== undefined }) };
    if (run.kind !== 'ended') {
      // Pruned at a rung (or its claim lost meanwhile): its result there, and the snapshot it would resume from.
      await heartbeat.flushMetrics();
      accepted = run.kind === 'pruned' && await store.prune(study.name, key, attempt, {
        result: prunedResult(c, key, run.result, run.pruned, latency),
        seconds: (performance.now() - started) / 1000,
        metrics: sampler.take(),
        ...(options.artifacts === IN_STORE ? { checkpoint: IN_STORE, artifacts: readSnapshotFiles(save!) } : { checkpoint: keepSnapshotFiles(save!, options.artifacts, study.name, key, attempt) }),
      });
    } else {
      run.model.dispose();
      // A trial that could have been packed records the measurement that kept it alone.
      const extra = { ...recordedFluctuations(recorder.fluctuations, recording?.maxFullDimension ?? 64), ...(packed ? { packed } : {}) };
      accepted = await storeEnded(c, trial, run.result, { started, keep, save, sampler, extra, resumed: resumeFrom !== undefined, latency });
    }
  } catch (error) {
    accepted = await store.fail(study.name, key, attempt, (error as Error).message, (performance.now() - started) / 1000);
  } finally {
    recorder.fluctuations?.dispose();
    removeSave(c, paths, accepted);
  }
  reportRefused(c, trial, accepted);
  heartbeat.holds(null);
  tell({ type: 'idle' });
}

/** A pack's progress hook: every member's sampled metrics to the store, progress (the first live member's) to the heartbeat and the runner. */
function packProgress(c: Context, members: readonly StoredTrial[], samplers: readonly MetricSampler[]): (p: PackedProgress) => void {
  let lastSent = 0;
  return (p) => {
    for (const s of samplers) s.setTotalSteps(p.totalSteps);
    const t = performance.now();
    if (t - lastSent < 250 && p.step < p.totalSteps) return;
    lastSent = t;
    // A member that ended (diverged, pruned) has NaN: the first other one speaks for the pack.
    const lead = Math.max(0, p.losses.findIndex((l) => !Number.isNaN(l)));
    c.heartbeat.progress(p.step, p.totalSteps, p.losses[lead]!);
    members.forEach((m, k) => c.heartbeat.metrics(m.key, m.attempt, samplers[k]!.take()));
    tell({ type: 'trial', key: members[lead]!.key, coordinates: members[lead]!.coordinates, step: p.step, totalSteps: p.totalSteps });
  };
}

/** How a trial was packed (or measured and left alone), for its stored result. */
const packRecord = (members: number, decision: PackDecision | undefined): PackRecord => ({ members, ...(decision?.measuredSpeedup !== undefined ? { measuredSpeedup: decision.measuredSpeedup } : {}) });

/** A pack's holding: the first member still held leads, the others are its `pack` (the heartbeat renews every one). */
function packHolding(held: readonly StoredTrial[]): WorkerHolding | null {
  if (held.length === 0) return null;
  const [lead, ...rest] = held as [StoredTrial, ...StoredTrial[]];
  return { kind: 'trial', key: lead.key, attempt: lead.attempt, pack: rest.map(({ key, attempt }) => ({ key, attempt })) };
}

/** A study's pruning rule as a pack applies it: the rule, its groups and metric, and the rungs of the pack's run. */
interface PackPruning {
  rule: PruneRule;
  groups: PruneGroups;
  metric: PruneMetric;
  rungs: RungClock;
}

/**
 * Each live member's value at the pack's rung reported and decided (decideAtRung) under its own key and
 * attempt, in member order (the order a lone worker reaches them in): those pruned, with where and why,
 * and those whose report the store refused.
 */
async function decideMembers(c: Context, p: PackPruning, members: readonly StoredTrial[], at: PackRung): Promise<{ pruned: Map<number, PrunedAt>; refused: Set<number> }> {
  const pruned = new Map<number, PrunedAt>();
  const refused = new Set<number>();
  for (const { index, evaluation } of at.members) {
    const { key, attempt } = members[index]!;
    const r = await decideAtRung({ store: c.store, study: c.study, rule: p.rule, groups: p.groups, key, attempt }, p.rungs.rung, { step: at.step, value: rungValue(evaluation, p.metric) });
    if (r.kind === 'pruned') pruned.set(index, r.pruned);
    else if (r.kind === 'refused') refused.add(index);
  }
  p.rungs.rung++;
  return { pruned, refused };
}

/**
 * Trains claimed trials as one pack (packing.ts) and stores each member's result with its own attempt, as
 * if it had run alone, plus how it was packed. The heartbeat renews every member's claim while it is held.
 *
 * In a study that prunes, the pack stops at the rungs a lone trial would pause at (RungClock, the same
 * rungs: the members share their length), and each live member's value there, from its evaluation at the
 * rung (a lone trial's final evaluation at its pause), goes through decideAtRung under its own key and
 * attempt, in member order. A member the rule prunes is stored pruned there, with its result at the
 * rung; one whose report the store refuses (its claim was taken over) is dropped unstored. Either leaves
 * the pack (PackedRun.endAtRung: it costs no more arithmetic) and the heartbeat's holding. A packed member
 * leaves no snapshot: should a relaxed rule reopen it (reopen-pruned.ts), it trains again from the start
 * (restoreSnapshotFiles finds nothing; the same numbers, only later).
 */
async function trainPack(c: Context, members: readonly StoredTrial[], decision: PackDecision | undefined, latency: Latency): Promise<void> {
  const { store, study, heartbeat, data } = c;
  const started = performance.now();
  let held = [...members];
  heartbeat.holds(packHolding(held));
  // A packed member never pauses for a snapshot: it saves only the checkpoint it keeps (a measured study).
  const paths = members.map((t) => {
    const { keep } = trialPaths(c, t);
    return { keep, save: keep };
  });
  const samplers = members.map(() => new MetricSampler());
  const packed = packRecord(members.length, decision);
  const accepted = members.map(() => true);
  /** Members whose outcome is settled: stored (completed, diverged or pruned), or refused at a rung. */
  const settled = members.map(() => false);
  const pruning: PackPruning | undefined = study.prune && c.pruneGroups ? { rule: study.prune, groups: c.pruneGroups, metric: pruneMetric(study.prune, study.select), rungs: new RungClock(study.prune) } : undefined;
  let run: PackedRun | undefined;
  try {
    const configs = members.map((t, k) => (paths[k]!.save ? { ...t.config, save: paths[k]!.save } : t.config));
    const trialData = data.get(members[0]!.config.data, checkedDevice(members[0]!.config));
    run = new PackedRun(configs, {
      data: trialData, onStep: (k, m) => samplers[k]!.step(m), onEval: (k, e) => samplers[k]!.eval(e), onProgress: packProgress(c, members, samplers),
      ...(pruning ? { pauseAfter: (p: { step: number; epoch: number; totalSteps: number }) => pruning.rungs.reached(p) } : {}),
    });
    for (let at = run.advance(); at !== undefined && pruning; at = run.advance()) {
      const { pruned, refused } = await decideMembers(c, pruning, members, at);
      if (pruned.size === 0 && refused.size === 0) continue;
      const ended = run.endAtRung([...pruned.keys(), ...refused]);
      // Out of the heartbeat's holding before its prune is stored: a pruned trial's lease is not renewed.
      held = held.filter((t) => !ended.some((e) => members[e.index] === t));
      heartbeat.holds(packHolding(held));
      for (const { index, result, model } of ended) {
        model.dispose();
        const t = members[index]!;
        if (refused.has(index)) {
          [accepted[index], settled[index]] = [false, true];
          continue;
        }
        await heartbeat.flushMetrics(); // the sampled rows already sent are stored before the result
        accepted[index] = await store.prune(study.name, t.key, t.attempt, {
          result: prunedResult(c, t.key, result, pruned.get(index)!, latency, { packed }), seconds: (performance.now() - started) / 1000, metrics: samplers[index]!.take(),
        });
        settled[index] = true;
      }
    }
    const runs = run.finish();
    for (const { model } of runs) model.dispose();
    for (const { index, result } of runs) {
      accepted[index] = await storeEnded(c, members[index]!, result, { started, ...paths[index]!, sampler: samplers[index]!, extra: { packed }, resumed: false, latency });
      settled[index] = true;
    }
  } catch (error) {
    for (const [k, t] of members.entries()) if (!settled[k]) accepted[k] = await store.fail(study.name, t.key, t.attempt, (error as Error).message, (performance.now() - started) / 1000);
  } finally {
    run?.dispose();
    // A member that ended at a rung keeps no files: no snapshot to resume from, and a pruned trial is not measured.
    members.forEach((t, k) => removeSave(c, paths[k]!, accepted[k]! && held.includes(t)));
  }
  members.forEach((t, k) => reportRefused(c, t, accepted[k]!));
  heartbeat.holds(null);
  tell({ type: 'idle' });
}

async function trainTrials(c: Context): Promise<void> {
  const { store, study, id, options, data } = c;
  const latency: Latency = { claimMs: 0 };
  const claimOptions = { leaseSeconds: options.leaseSeconds, isWorkerAlive };
  const claim = () => timed(() => claimOrStop(c, () => store.claim(study.name, id, claimOptions)), (ms) => (latency.claimMs = ms));
  for (let trial = await claim(); trial; trial = await claim()) {
    const claimed = trial;
    if (!c.packing) {
      await trainOne(c, claimed, latency);
      continue;
    }
    // Held (its lease renewed) while its pack is formed: the speed measurement may take seconds.
    c.heartbeat.holds({ kind: 'trial', key: claimed.key, attempt: claimed.attempt });
    const pack = await c.packing.claimPack(store, id, claimed, claimOptions, () => data.get(claimed.config.data, checkedDevice(claimed.config)));
    if (pack.members.length > 1) await trainPack(c, pack.members, pack.decision, latency);
    else await trainOne(c, claimed, latency, pack.decision && packRecord(1, pack.decision));
  }
}

async function measureTrials(c: Context): Promise<void> {
  const { store, study, id, options, heartbeat, data } = c;
  const measure = study.measure;
  if (!measure) return;
  const claim = () => claimOrStop(c, () => store.claimMeasurement(study.name, id, { leaseSeconds: options.leaseSeconds, isWorkerAlive }));
  for (let job = await claim(); job; job = await claim()) {
    const started = performance.now();
    const attempt = job.attempt;
    heartbeat.holds({ kind: 'measurement', key: job.key, measurement: job.kind, spec: job.spec, attempt });
    let accepted = true;
    try {
      if (!isMeasurementKind(job.kind)) throw new Error(`unknown measurement kind '${job.kind}' (stored by another sgdlab version?); this one measures ${MEASUREMENT_KINDS.join(', ')}`);
      const kind = job.kind;
      const trial = await store.trial(study.name, job.key);
      if (!trial?.checkpoint) throw new Error(`trial ${job.key} has no checkpoint to measure`);
      const target = measurementTarget(measure, trial, job.spec);
      tell({ type: 'measure', key: job.key, kind: job.kind, coordinates: trial.coordinates });
      const checkpoint = await localCheckpoint(store, trial, c.scratch, target.level);
      const device = checkedDevice(trial.config);
      const { model } = loadCheckpoint(checkpoint, { device });
      let partner: { model: Module; checkpoint: string; self: string } | undefined;
      try {
        if (kind === 'interpolate') {
          const key = (JSON.parse(job.spec) as { partner?: string }).partner;
          const other = key === undefined ? undefined : await store.trial(study.name, key);
          if (!other?.checkpoint) throw new Error(`the interpolation partner ${key} has no checkpoint`);
          const otherCheckpoint = await localCheckpoint(store, other, c.scratch);
          partner = { model: loadCheckpoint(otherCheckpoint, { device }).model, checkpoint: otherCheckpoint, self: checkpoint };
        }
        const result = measureModel(kind, target.measure, model, trial.config, data.get(trial.config.data, device), partner);
        const seconds = (performance.now() - started) / 1000;
        accepted = await store.finishMeasurement(study.name, job, attempt, storedMeasurementResult(kind, { ...result, seconds }, study.name, job.key, job.spec), seconds);
      } finally {
        model.dispose();
        partner?.model.dispose();
      }
    } catch (error) {
      accepted = await store.failMeasurement(study.name, job, attempt, (error as Error).message, (performance.now() - started) / 1000);
    }
    if (!accepted) process.stderr.write(`worker ${id}: the ${job.kind} measurement of trial ${job.key} (attempt ${attempt}) was refused: it was claimed again while this worker was out of reach\n`);
    heartbeat.holds(null);
    tell({ type: 'idle' });
  }
}

/** Exit code of a worker that stopped claiming because the store was unreachable longer than its lease. */
export const EXIT_STORE_UNREACHABLE = 3;

async function main(): Promise<void> {
  // The store's URL comes in the environment, not argv, so that its password is not in the process list.
  const url = process.env.SGDLAB_DB;
  // The scratch folder is the pool's (worker-pool.ts): it removes it after this process exits, however it ends.
  const [name, phase, json, scratch] = process.argv.slice(2);
  if (!url || !name || (phase !== 'train' && phase !== 'measure') || !json || !scratch) throw new Error('usage: SGDLAB_DB=URL worker.js STUDY train|measure OPTIONS-JSON SCRATCH-DIR');
  const options = JSON.parse(json) as WorkerOptions;
  const id = workerId();
  const store = await openStore(url, { retrySeconds: options.leaseSeconds });
  const data = new DataCache();
  const heartbeat = new Heartbeat({ id, study: name, host: hostId(), pid: process.pid, holds: null, step: null, totalSteps: null, loss: null, rssMb: null, state: 'idle', message: null },
    // Progress (step, loss, metrics) every second: what the dashboard shows of a running trial is at most that old.
    { url, leaseSeconds: options.leaseSeconds, heartbeatSeconds: options.heartbeatSeconds, progressSeconds: Math.min(1, options.heartbeatSeconds) });
  let stopped: string | undefined;
  try {
    const study = (await store.getStudy(name))?.study;
    if (!study) throw new Error(`no study '${name}' in ${store.url}`);
    const c: Context = { store, study, id, options, heartbeat, data, scratch, pruneGroups: study.prune ? new PruneGroups(store, study, study.prune) : undefined, packing: packPlanner(study) };
    try {
      if (phase === 'train') await trainTrials(c);
      else await measureTrials(c);
      stopped = mustStop(c);
    } catch (error) {
      // Only the store's calls throw out of the loops (a trial's own errors are recorded): it is out of reach.
      stopped = `the study store failed: ${(error as Error).message}`;
    }
  } finally {
    data.dispose();
    await heartbeat.stop(stopped ?? null);
    await store.close();
    process.disconnect?.();
  }
  if (stopped) {
    process.stderr.write(`worker ${id} stopped claiming: ${stopped}\n`);
    process.exitCode = EXIT_STORE_UNREACHABLE;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
