/**
 * Where a study's checkpoints live, readable from any machine: in the store (IN_STORE: a table of
 * files, bytea in PostgreSQL, a BLOB in SQLite) or in a directory (`--artifacts DIR`, shared storage
 * for many machines; SQLite's default is DB.checkpoints/ beside the file). A directory checkpoint is
 * written per attempt (DIR/STUDY/KEY/attempt-N), so a stale attempt never overwrites the files of the
 * attempt whose result was stored. A trial's loss-level checkpoints (training option checkpointAt)
 * travel with it: in the directory as SAVE/loss-LEVEL/, in the store as files named loss-LEVEL/FILE.
 * Addon-free.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LossLevelRecord } from '../train/checkpoint-levels.js';
import { lossLevelRecord, lossLevelsOf } from './loss-levels.js';
import { IN_STORE, type ArtifactFile, type ArtifactSize, type StoredTrial, type StudyStore } from './store.js';

/** The files of a checkpoint directory (train/checkpoint.ts writes them). */
export const CHECKPOINT_FILES = ['model.safetensors', 'model.json', 'initial.safetensors'] as const;

/** A study's folder (or a trial's) under an artifacts directory. */
export function artifactsDir(base: string, study: string, key?: string): string {
  return key === undefined ? join(base, study) : join(base, study, key);
}

/** Where attempt `attempt` of a trial writes its checkpoint under an artifacts directory. */
export const attemptDir = (base: string, study: string, key: string, attempt: number) => join(artifactsDir(base, study, key), `attempt-${attempt}`);

/** The directory of a checkpoint given as its directory or its model.safetensors. */
export const checkpointDirOf = (path: string) => (path.endsWith('.safetensors') ? dirname(path) : path);

export function readCheckpointFiles(path: string): ArtifactFile[] {
  const dir = checkpointDirOf(path);
  return CHECKPOINT_FILES.filter((name) => existsSync(join(dir, name))).map((name) => ({ name, data: new Uint8Array(readFileSync(join(dir, name))) }));
}

/** The files of a training snapshot (train/snapshot.ts) a pruned trial leaves to resume from, as the store keeps them: under snapshot/. */
export const SNAPSHOT_FILES = ['snapshot.safetensors', 'snapshot.json', 'initial.safetensors'] as const;
export const SNAPSHOT_PREFIX = 'snapshot/';

export function readSnapshotFiles(dir: string): ArtifactFile[] {
  return SNAPSHOT_FILES.filter((name) => existsSync(join(dir, name))).map((name) => ({ name: `${SNAPSHOT_PREFIX}${name}`, data: new Uint8Array(readFileSync(join(dir, name))) }));
}

/**
 * Keeps a pruned trial's snapshot (in `dir`, where it trained) under an artifacts directory, in its
 * attempt's folder; returns that folder (the trial's checkpoint, as stored).
 */
export function keepSnapshotFiles(dir: string, base: string, study: string, key: string, attempt: number): string {
  const dest = attemptDir(base, study, key, attempt);
  if (dest === dir) return dest;
  mkdirSync(dest, { recursive: true });
  for (const name of SNAPSHOT_FILES) if (existsSync(join(dir, name))) cpSync(join(dir, name), join(dest, name));
  return dest;
}

/**
 * Writes the snapshot a pruned (since reopened) trial kept, in the store or in its checkpoint folder,
 * into `dir`, where this attempt saves: its configuration's `save` becomes `dir` (the one field of the
 * configuration that names a place, not the run). Returns the step it resumes from; undefined when the
 * trial keeps no snapshot.
 */
export async function restoreSnapshotFiles(store: StudyStore, trial: StoredTrial, dir: string): Promise<number | undefined> {
  const json = `${SNAPSHOT_PREFIX}snapshot.json`;
  let files: ArtifactFile[];
  if (trial.checkpoint === IN_STORE) {
    if (!(await store.artifactSizes(trial.study, trial.key))?.some((f) => f.name === json)) return undefined;
    files = ((await store.artifact(trial.study, trial.key)) ?? []).filter((f) => f.name.startsWith(SNAPSHOT_PREFIX));
  } else {
    if (trial.checkpoint === null || !existsSync(join(trial.checkpoint, 'snapshot.json'))) return undefined;
    const from = trial.checkpoint;
    files = SNAPSHOT_FILES.filter((name) => existsSync(join(from, name))).map((name) => ({ name: `${SNAPSHOT_PREFIX}${name}`, data: new Uint8Array(readFileSync(join(from, name))) }));
  }
  mkdirSync(dir, { recursive: true });
  let step: number | undefined;
  for (const f of files) {
    const name = f.name.slice(SNAPSHOT_PREFIX.length);
    if (f.name !== json) {
      writeFileSync(join(dir, name), f.data);
      continue;
    }
    const meta = JSON.parse(Buffer.from(f.data).toString('utf8')) as { step: number; config: { save?: string } };
    meta.config.save = dir;
    step = meta.step;
    writeFileSync(join(dir, name), JSON.stringify(meta));
  }
  return step;
}

/**
 * Where the store keeps a loss-level checkpoint's files: under its folder's name (loss-LEVEL, as in the
 * trial's save folder: train/checkpoint-levels.ts), beside the final checkpoint's files.
 */
const levelPrefix = (record: LossLevelRecord) => `${basename(record.checkpoint!)}/`;

/** The files of the loss-level checkpoints on this machine, named as the store keeps them (loss-LEVEL/FILE). */
const readLevelFiles = (levels: readonly LossLevelRecord[]): ArtifactFile[] => levels.filter((r) => r.checkpoint !== undefined)
  .flatMap((r) => readCheckpointFiles(r.checkpoint!).map((f) => ({ name: `${levelPrefix(r)}${f.name}`, data: f.data })));

/** Every file of a trial's checkpoints, as the store keeps them: the final checkpoint's, then each loss level's under loss-LEVEL/. */
export const readTrialArtifacts = (finalDir: string, levels: readonly LossLevelRecord[]): ArtifactFile[] => [...readCheckpointFiles(finalDir), ...readLevelFiles(levels)];

/** Writes checkpoint files into `dir` (complete or not at all: through a temporary folder renamed into place). */
export function writeCheckpointFiles(dir: string, files: readonly ArtifactFile[]): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const f of files) {
    if (!(CHECKPOINT_FILES as readonly string[]).includes(f.name)) throw new Error(`unexpected checkpoint file '${f.name}' (expected ${CHECKPOINT_FILES.join(', ')})`);
    writeFileSync(join(tmp, f.name), f.data);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/**
 * A trial's checkpoint files, from the store or its directory: the final checkpoint, or with `level`
 * the one saved the first time the training loss fell below it.
 */
export async function checkpointFiles(store: StudyStore, trial: StoredTrial, level?: number): Promise<ArtifactFile[]> {
  const checkpoint = checkpointOf(trial);
  if (checkpoint === IN_STORE) {
    const stored = await store.artifact(trial.study, trial.key);
    if (!stored) throw notInStore(store, trial);
    if (level === undefined) return stored.filter(isFinalFile);
    const prefix = levelPrefix(lossLevelRecord(trial, level));
    const files = stored.filter((f) => f.name.startsWith(prefix)).map((f) => ({ name: f.name.slice(prefix.length), data: f.data }));
    if (!files.some((f) => f.name === 'model.safetensors')) throw new Error(`trial ${trial.key}: ${describeCheckpoint(level)} is not in the store ${store.url} (the trial's attempt that saved it did not upload it)`);
    return files;
  }
  return readCheckpointFiles(readableCheckpointDir(trial, level));
}

/**
 * The names and sizes of a trial's final checkpoint files (the files `checkpointFiles` returns),
 * without reading them: from the store's row headers, or a stat of each file in its directory.
 */
export async function checkpointSizes(store: StudyStore, trial: StoredTrial): Promise<ArtifactSize[]> {
  if (checkpointOf(trial) === IN_STORE) {
    const stored = await store.artifactSizes(trial.study, trial.key);
    if (!stored) throw notInStore(store, trial);
    return stored.filter(isFinalFile);
  }
  const dir = readableCheckpointDir(trial);
  return CHECKPOINT_FILES.filter((name) => existsSync(join(dir, name))).map((name) => ({ name, bytes: statSync(join(dir, name)).size }));
}

/** A file of the final checkpoint, as the store names it (a loss level's files sit under loss-LEVEL/). */
const isFinalFile = (f: { name: string }) => !f.name.includes('/');

const describeCheckpoint = (level?: number) => (level === undefined ? 'its checkpoint' : `its checkpoint at training-loss level ${level}`);

function checkpointOf(trial: StoredTrial): string {
  if (!trial.checkpoint) throw new Error(`trial ${trial.key} has no checkpoint (only studies that measure keep them)`);
  return trial.checkpoint;
}

const notInStore = (store: StudyStore, trial: StoredTrial) => new Error(`trial ${trial.key}: its checkpoint should be in the store ${store.url} but is not`);

/** The directory of a trial's checkpoint (final, or at `level`) kept in a directory, if this machine can read it. */
function readableCheckpointDir(trial: StoredTrial, level?: number): string {
  const dir = level === undefined ? checkpointDirOf(checkpointOf(trial)) : lossLevelRecord(trial, level).checkpoint!;
  if (!existsSync(join(dir, 'model.safetensors'))) {
    throw new Error(`trial ${trial.key}: ${describeCheckpoint(level)} ${dir} (written by ${trial.worker ?? 'a worker'}) is not readable from this machine; `
      + 'put artifacts where every machine can read them (--artifacts store, or --artifacts DIR on shared storage)');
  }
  return dir;
}

/** Every file of a trial's checkpoints (final and loss levels) as the store keeps them, wherever they are now. */
export async function trialArtifacts(store: StudyStore, trial: StoredTrial): Promise<ArtifactFile[]> {
  if (trial.checkpoint === IN_STORE) return (await store.artifact(trial.study, trial.key)) ?? [];
  return [...await checkpointFiles(store, trial), ...readLevelFiles(lossLevelsOf(trial))];
}

/**
 * A directory holding a trial's checkpoint (final, or at a loss level) on this machine: its own
 * directory if it is one, else the files from the store written under `cacheDir` (once per worker).
 */
export async function localCheckpoint(store: StudyStore, trial: StoredTrial, cacheDir: string, level?: number): Promise<string> {
  if (trial.checkpoint && trial.checkpoint !== IN_STORE) {
    const own = level === undefined ? checkpointDirOf(trial.checkpoint) : lossLevelRecord(trial, level).checkpoint!;
    if (existsSync(join(own, 'model.safetensors'))) return own;
  }
  const dir = join(cacheDir, level === undefined ? trial.key : `${trial.key}@${basename(lossLevelRecord(trial, level).checkpoint!)}`);
  if (!existsSync(join(dir, 'model.safetensors'))) writeCheckpointFiles(dir, await checkpointFiles(store, trial, level));
  return dir;
}

/** Copies a checkpoint directory's files (for `sgdlab checkpoint get`). */
export function copyCheckpointDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) if ((CHECKPOINT_FILES as readonly string[]).includes(name)) cpSync(join(from, name), join(to, name));
}
