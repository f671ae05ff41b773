/**
 * Study commands, one module each (run-command.ts, …). Only `run` trains (in worker processes); status,
 * results, export, rm, report and builtin read the store or the built-in studies and never load
 * libtorch. The store is a URL (--db or $SGDLAB_DB): a SQLite path or sqlite:PATH, or postgres://USER@HOST/DB.
 *   sgdlab run STUDY.yaml --db URL [--workers N]
 *   sgdlab status [STUDY] --db URL
 *   sgdlab results STUDY --db URL [--json]   → [{ batchSize, bestLr, testAccuracy: { mean, std, n }, trainLoss: { … } }]
 *   sgdlab export STUDY --db URL --format csv|json
 *   sgdlab rm STUDY --db URL
 *   sgdlab report STUDY --db URL [--out DIR]
 *   sgdlab builtin list | show NAME [--size S]
 */
import type { Command } from 'commander';
import { runCommand } from './run-command.js';
import { statusCommand } from './status-command.js';
import { resultsCommand } from './results-command.js';
import { exportCommand } from './export-command.js';
import { retryCommand } from './retry-command.js';
import { rmCommand } from './rm-command.js';
import { reportCommand } from './report-command.js';
import { builtinCommand } from './builtin-command.js';

export function studyCommands(): Command[] {
  return [runCommand(), statusCommand(), resultsCommand(), exportCommand(), retryCommand(), rmCommand(), reportCommand(), builtinCommand()];
}
