/**
 * The dashboard's JSON API: what each GET route answers. Shared by the server (which builds these
 * from the store) and the client (which imports the types only), so that both sides agree at compile
 * time. Every string in here may come from the store and is untrusted: the client renders it as text.
 * The store's statuses and study summary come from study/records.ts, the report's tables and figures
 * from report/types.ts: modules the client's type check (DOM, no Node types) can follow.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { MeasurementStatus, StudySummary, TrialStatus } from '../study/records.js';
import type { Figure, Table } from '../report/types.js';

export type { MeasurementStatus, TrialStatus };

export interface Progress {
  /** Trials of the current grid that are finished (completed, diverged, failed or pruned), and how many there are. */
  done: number;
  total: number;
  /** Measurements finished and queued (0 when the study measures nothing or has not queued them yet). */
  measurementsDone: number;
  measurementsTotal: number;
  /** Fraction of the whole study's work done, counting running trials by their step: 0…1. */
  fraction: number;
  /** Seconds left, estimated from the trials' stored durations and the workers at work; null when unknown. */
  etaSeconds: number | null;
}

export interface StudyListEntry extends Pick<StudySummary, 'name' | 'createdAt' | 'updatedAt' | 'counts' | 'measurements' | 'activeWorkers'> {
  description: string | null;
  progress: Progress;
}

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  state: string;
  /** What it holds: a trial key, or "kind of key" for a measurement; null when idle. */
  holds: string | null;
  holdsTrial: string | null;
  /** The held trial's grid coordinates, short (batchSize=64 lr=0.1 …). */
  coordinates: string | null;
  step: number | null;
  totalSteps: number | null;
  loss: number | null;
  rssMb: number | null;
  lastSeen: string;
  /** Missed its lease: what it holds can be taken over. */
  expired: boolean;
  message: string | null;
}

export type TableData = Table;
export type FigureData = Figure;

/** One grid axis (a dotted path into the configuration, or "budget") and the values it takes. */
export interface Axis {
  path: string;
  values: string[];
}

export interface StudyDetail extends StudyListEntry {
  select: string;
  axes: Axis[];
  workers: WorkerRow[];
  /** Late results refused because their attempt was stale. */
  refused: number;
}

export interface StudyReport {
  /** The version of the stored data the report was computed from (changes when the study does). */
  version: string;
  tables: TableData[];
  figures: FigureData[];
  /** Milliseconds the server took to compute it (from the store), for the benchmark. */
  computeMs: number;
}

export const TRIAL_SORT_FIXED = ['key', 'status', 'seconds', 'testAccuracy', 'trainLoss', 'finishedAt'] as const;

export interface TrialRow {
  key: string;
  status: TrialStatus;
  /** Grid coordinates as displayed values, by axis path. */
  coordinates: Record<string, string>;
  seconds: number | null;
  testAccuracy: number | null;
  trainLoss: number | null;
  finishedAt: string | null;
  worker: string | null;
  /** The first line of the error, for failed trials. */
  error: string | null;
}

export interface TrialPage {
  total: number;
  /** Rows matching the filters (all pages). */
  matching: number;
  offset: number;
  limit: number;
  rows: TrialRow[];
}

export interface TrialDetail {
  study: string;
  key: string;
  status: TrialStatus;
  coordinates: Record<string, string>;
  /** The full training configuration, as stored. */
  config: unknown;
  worker: string | null;
  attempt: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  error: string | null;
  /** The stored result without its bulky per-coordinate arrays, as key → value text. */
  result: [string, string][];
  measurements: { kind: string; status: MeasurementStatus; seconds: number | null; values: [string, string][]; error: string | null }[];
  /** The files of its checkpoint that can be downloaded (empty when it has none). */
  checkpoint: { name: string; bytes: number }[];
  /** The worker holding it now, while it trains. */
  live: WorkerRow | null;
}

export interface CurvePoint {
  step: number;
  value: number;
  metric: string;
}

export interface TrialCurves {
  /** Stored rows for this trial, before downsampling. */
  stored: number;
  points: CurvePoint[];
  spec: TopLevelSpec;
}

/** What the server pushes (Server-Sent Events): the name of what changed; the client fetches it again. */
export type LiveEvent =
  | { type: 'studies' }
  | { type: 'study'; study: string }
  | { type: 'workers'; study: string }
  | { type: 'report'; study: string }
  | { type: 'trial'; study: string; key: string };
