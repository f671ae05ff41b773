/**
 * Packed trials in a study (issue 23): a worker that claims a trial which can be packed also claims
 * pending trials of the same pack (src/train/packed.ts packKey: the same configuration but for seed,
 * learning rate, momentum, weight decay, Adam's betas…), up to the study's `pack.maxMembers`, each a
 * claim of its own with its own attempt and lease, and trains them as one computation (trainPacked).
 * Each member's result is stored on its own, fenced by its own attempt (worker.ts).
 *
 * With `pack.when: faster` the worker first times a few steps of the pack against one member trained
 * alone (train(), the path a lone trial takes), on the real data and batch size, once per pack key, and
 * packs only if a member's step costs less packed, by more than the noise of such timings (PACK_MARGIN). The timed runs learn nothing (learning rate 0: a
 * step's arithmetic does not depend on its value) and are cut off before their final evaluation.
 *
 * In a study that prunes, a pack stops at the rungs (the members share their length, so their rungs are
 * the same steps), each member is reported and decided on its own, and a pruned member leaves the pack
 * (worker.ts trainPack). A pack key is the configuration less seed and optimizer hyperparameters, and a
 * prune group the learning rates of one batch size, seed, …: a pack is typically (part of) one group.
 *
 * Not packed (they run alone, as before): trials of a study that records stationary fluctuations (a
 * per-trial hook trainPacked does not have), a reopened trial with a snapshot (it resumes from it; one
 * pruned in a pack has none and starts over, so it may be packed again), and trials whose configuration
 * trainPacked refuses (packingProblems: loss-level checkpoints, warm starts, batch schedules, dropout, …).
 */
import type { DataSplits } from '../data/index.js';
import { train, type TrainConfig } from '../train/index.js';
import { packKey, packingProblems, trainPacked } from '../train/packed.js';
import { sgdlabVersion } from '../train/version.js';
import type { PackSpec, Study } from './schema.js';
import type { ClaimOptions, StoredTrial, StudyStore } from './store.js';
import { expandTrials, type Trial } from './trials.js';

/** How a pack came to be, stored in each member's result. */
export interface PackRecord {
  /** Trials trained together (this one included). */
  members: number;
  /** A member's step alone ÷ a member's share of a packed step, as measured before packing (absent with `when: always`). */
  measuredSpeedup?: number;
}

/** Whether trials of a pack key are packed, and the measurement that decided it. */
export interface PackDecision {
  pack: boolean;
  measuredSpeedup?: number;
}

/** The study's packing option, if its trials may be packed at all (see the module's comment for what is not). */
export function studyPacking(study: Study): PackSpec | undefined {
  const spec = study.pack;
  if (spec === undefined || spec.when === 'never' || study.record?.fluctuations !== undefined) return undefined;
  return spec;
}

/** A claimed trial that may lead or join a pack: not a reopened one, and one trainPacked accepts. */
export const packableTrial = (trial: Pick<StoredTrial, 'config' | 'checkpoint'>): boolean => trial.checkpoint === null && packingProblems(trial.config).length === 0;

/** Raised from a timed run's progress hook to end it once it has been timed. */
class Timed extends Error {
  constructor(readonly msPerStep: number) {
    super('timed');
  }
}

/**
 * Steps run before timing starts (allocations, caches), and the least steps and time a timing spans: short,
 * since every worker measures each pack key once and the steps it times train nothing (a pack of 8 of the
 * 784–512–512–10 MLP at B = 1,024 costs about 0.25 s of CPU a step).
 */
const WARM_STEPS = 1;
const MIN_TIMED_STEPS = 2;
const MIN_TIMED_MS = 100;
const MAX_TIMED_STEPS = 200;

/**
 * Packing must measure at least this much faster: the speed-ups of equal work measured on this 2-core,
 * shared machine moved by about ±10% (docs/BENCHMARKS.md, "Packed trials"), so a smaller one is noise.
 */
export const PACK_MARGIN = 1.1;

/** Milliseconds now: the process's CPU time on the CPU (one libtorch thread: what a step costs, whoever else shares the cores), wall time on a GPU (asynchronous kernels). */
type Clock = () => number;
const cpuClock: Clock = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const clockFor = (config: TrainConfig): Clock => (config.device === undefined || config.device === 'cpu' ? cpuClock : () => performance.now());

/**
 * A progress hook that times steps WARM_STEPS… until at least MIN_TIMED_STEPS steps and MIN_TIMED_MS
 * have passed (or MAX_TIMED_STEPS), then throws Timed with the mean milliseconds per step.
 */
function stepTimer(clock: Clock): (p: { step: number }) => void {
  let start: { step: number; at: number } | undefined;
  return ({ step }) => {
    const at = clock();
    if (step < WARM_STEPS) return;
    if (start === undefined) {
      start = { step, at };
      return;
    }
    const steps = step - start.step;
    if ((steps >= MIN_TIMED_STEPS && at - start.at >= MIN_TIMED_MS) || steps >= MAX_TIMED_STEPS) throw new Timed((at - start.at) / steps);
  };
}

/** Milliseconds per step of `run` (which must end by throwing the timer's Timed, or end too soon to be timed). */
function timeSteps(clock: Clock, run: (onProgress: (p: { step: number }) => void) => void): number {
  try {
    run(stepTimer(clock));
  } catch (error) {
    if (error instanceof Timed) return error.msPerStep;
    throw error;
  }
  throw new Error('a timed run ended before it could be timed');
}

/** The configuration as timed: it learns nothing (lr 0), evaluates nothing, and runs long enough to be timed. */
const timingConfig = (c: TrainConfig): TrainConfig => ({
  ...c, optimizer: { ...c.optimizer, lr: 0 }, budget: { steps: 1_000_000 }, eval: { ...c.eval, every: 1_000_000 }, save: undefined,
});

/**
 * A member's step alone (train()) ÷ a member's share of a step of the pack of `configs` (trainPacked), each
 * the least of two timings (the machine may be shared), as bench/packed.ts measures it: above 1, packing is faster.
 */
export function measureSpeedup(configs: readonly TrainConfig[], data: DataSplits): number {
  const timed = configs.map(timingConfig);
  const clock = clockFor(configs[0]!);
  let alone = Infinity;
  let packed = Infinity;
  for (let round = 0; round < 2; round++) {
    alone = Math.min(alone, timeSteps(clock, (onProgress) => train(timed[0]!, { data, hooks: { onProgress } })));
    packed = Math.min(packed, timeSteps(clock, (onProgress) => trainPacked(timed, { data, onProgress })));
  }
  return alone / (packed / configs.length);
}

/** The trials a worker packs with a claimed one, and the decisions it has made per pack key (kept for its lifetime). */
export class PackPlanner {
  private packs: Map<string, Trial[]> | undefined;
  private readonly decisions = new Map<string, PackDecision>();

  constructor(readonly study: Study, readonly spec: PackSpec) {}

  /** The study's packable trials by pack key (expanded once: the keys are the store's, same version). */
  private trialsByPack(): Map<string, Trial[]> {
    if (this.packs === undefined) {
      this.packs = new Map();
      for (const t of expandTrials(this.study, sgdlabVersion())) {
        if (!packableTrial({ config: t.config, checkpoint: null })) continue;
        const key = packKey(t.config);
        this.packs.set(key, [...(this.packs.get(key) ?? []), t]);
      }
    }
    return this.packs;
  }

  /** The trials of `trial`'s pack other than itself (pending or not: the claim takes only pending ones). */
  partners(trial: StoredTrial): Trial[] {
    return (this.trialsByPack().get(packKey(trial.config)) ?? []).filter((t) => t.key !== trial.key);
  }

  /** Whether `trial`'s pack key is packed: `when: always`, or measured once with the pack it would form (`data` its data). */
  decide(trial: StoredTrial, partners: readonly Trial[], data: () => DataSplits): PackDecision {
    const key = packKey(trial.config);
    let decision = this.decisions.get(key);
    if (decision === undefined) {
      if (this.spec.when === 'always') decision = { pack: true };
      else {
        const speedup = measureSpeedup([trial.config, ...partners.slice(0, this.spec.maxMembers - 1).map((t) => t.config)], data());
        decision = { pack: speedup > PACK_MARGIN, measuredSpeedup: speedup };
      }
      this.decisions.set(key, decision);
    }
    return decision;
  }

  /**
   * The pack `trial` (just claimed) leads: itself and up to maxMembers − 1 pending partners, each claimed
   * with its own attempt and lease; just itself when it cannot be packed, has no partner, or packing is not faster.
   */
  async claimPack(store: StudyStore, worker: string, trial: StoredTrial, options: ClaimOptions, data: () => DataSplits): Promise<{ members: StoredTrial[]; decision?: PackDecision }> {
    if (!packableTrial(trial)) return { members: [trial] };
    const known = this.decisions.get(packKey(trial.config));
    if (known?.pack === false) return { members: [trial], ...(known.measuredSpeedup !== undefined ? { decision: known } : {}) };
    let partners: Trial[];
    let decision: PackDecision;
    try {
      partners = this.partners(trial);
      if (partners.length === 0) return { members: [trial] };
      decision = this.decide(trial, partners, data);
    } catch (error) {
      // Packing is an optimization: whatever stops it (a study this version cannot expand, a failed timing
      // run) leaves the trial to run alone, where its own error, if any, is recorded.
      this.decisions.set(packKey(trial.config), { pack: false });
      process.stderr.write(`worker ${worker}: trials like ${trial.key} are not packed: ${(error as Error).message}\n`);
      return { members: [trial] };
    }
    if (!decision.pack) return { members: [trial], decision };
    const more = await store.claimPending(this.study.name, worker, partners.map((t) => t.key), this.spec.maxMembers - 1, options);
    return { members: [trial, ...more], decision };
  }
}
