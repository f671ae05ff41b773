/**
 * Where a study's checkpoints live, readable from any machine: in the store (IN_STORE: a table of
 * files, bytea in PostgreSQL, a BLOB in SQLite) or in a directory (`--artifacts DIR`, shared storage
 * for many machines; SQLite's default is DB.checkpoints/ beside the file). A directory checkpoint is
 * written per attempt (DIR/STUDY/KEY/attempt-N), so a stale attempt never overwrites the files of the
 * attempt whose result was stored. Addon-free.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IN_STORE, type ArtifactFile, type StoredTrial, type StudyStore } from './store.js';

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

/** A trial's checkpoint files, from the store or its directory. */
export async function checkpointFiles(store: StudyStore, trial: StoredTrial): Promise<ArtifactFile[]> {
  if (!trial.checkpoint) throw new Error(`trial ${trial.key} has no checkpoint (only studies that measure keep them)`);
  if (trial.checkpoint === IN_STORE) {
    const files = await store.artifact(trial.study, trial.key);
    if (!files) throw new Error(`trial ${trial.key}: its checkpoint should be in the store ${store.url} but is not`);
    return files;
  }
  if (!existsSync(join(checkpointDirOf(trial.checkpoint), 'model.safetensors'))) {
    throw new Error(`trial ${trial.key}: its checkpoint ${trial.checkpoint} (written by ${trial.worker ?? 'a worker'}) is not readable from this machine; `
      + 'put artifacts where every machine can read them (--artifacts store, or --artifacts DIR on shared storage)');
  }
  return readCheckpointFiles(trial.checkpoint);
}

/**
 * A directory holding a trial's checkpoint on this machine: its own directory if it is one, else
 * the files from the store written under `cacheDir/KEY` (once per worker).
 */
export async function localCheckpoint(store: StudyStore, trial: StoredTrial, cacheDir: string): Promise<string> {
  if (trial.checkpoint && trial.checkpoint !== IN_STORE && existsSync(join(checkpointDirOf(trial.checkpoint), 'model.safetensors'))) return checkpointDirOf(trial.checkpoint);
  const dir = join(cacheDir, trial.key);
  if (!existsSync(join(dir, 'model.safetensors'))) writeCheckpointFiles(dir, await checkpointFiles(store, trial));
  return dir;
}

/** Copies a checkpoint directory's files (for `sgdlab checkpoint get`). */
export function copyCheckpointDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) if ((CHECKPOINT_FILES as readonly string[]).includes(name)) cpSync(join(from, name), join(to, name));
}
