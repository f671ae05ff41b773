/** `sgdlab status [STUDY] --db URL`: trial and measurement counts of the studies in the store, their active workers and refused late results. */
import { Command } from 'commander';
import { requireStudy, withStore } from './with-store.js';
import { dbOption } from './work-options.js';

export function statusCommand(): Command {
  return dbOption(new Command('status'))
    .description('trial counts of the studies in the store')
    .argument('[study]', 'one study')
    .action((name: string | undefined, flags: { db?: string }) => withStore(flags.db, async (store) => {
      if (name) await requireStudy(store, name);
      const rows = (await store.listStudies()).filter((s) => !name || s.name === name);
      for (const s of rows) {
        const c = s.counts;
        const m = s.measurements;
        const measured = m.pending + m.running + m.completed + m.failed > 0 ? `; measurements: ${m.completed} completed, ${m.failed} failed, ${m.running} running, ${m.pending} pending` : '';
        process.stdout.write(`${s.name}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed${c.pruned > 0 ? `, ${c.pruned} pruned` : ''}, ${c.running} running, ${c.pending} pending${measured} (created ${s.createdAt})\n`);
        if (s.activeWorkers > 0) {
          process.stdout.write(`  ${s.activeWorkers} worker(s) active:\n`);
          for (const w of (await store.workers(s.name)).filter((x) => !x.expired && x.state !== 'exited')) {
            const holds = w.holds === null ? 'idle' : w.holds.kind === 'trial'
              ? `trial ${w.holds.key} (attempt ${w.holds.attempt})${w.step !== null ? `, step ${w.step}/${w.totalSteps}` : ''}${w.loss !== null ? `, loss ${w.loss.toPrecision(4)}` : ''}`
              : `${w.holds.measurement} of trial ${w.holds.key} (attempt ${w.holds.attempt})`;
            process.stdout.write(`    ${w.id}: ${holds}${w.rssMb !== null ? `, ${Math.round(w.rssMb)} MB` : ''}, last seen ${w.lastSeen}\n`);
          }
        }
        if (s.refused > 0) {
          process.stdout.write(`  ${s.refused} late result(s) refused (stale attempts, not stored):\n`);
          for (const r of await store.refusals(s.name)) {
            process.stdout.write(`    ${r.kind} ${r.key}${r.measurement ? ` ${r.measurement}` : ''}: ${r.what} of attempt ${r.attempt} refused at ${r.at} (current attempt ${r.currentAttempt}, held by ${r.worker || 'nobody'})\n`);
          }
        }
      }
      if (rows.length === 0) process.stdout.write(`no studies in ${store.url}\n`);
    }));
}
