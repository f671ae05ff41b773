/** The studies page: every study in the store with its counts, progress, ETA and times. */
import type { StudyListEntry } from '../api.js';
import { studyPath, useJson, useLive } from './api.js';
import { ago } from './format.js';
import { Link } from './router.js';
import { Counts, ProgressBar, eta } from './progress.js';
import { LiveBadge, Problem } from './common.js';

export function StudiesPage() {
  const studies = useJson<StudyListEntry[]>('/api/studies');
  const live = useLive({}, () => studies.reload());
  return (
    <main>
      <header class="page-header">
        <h1>Studies</h1>
        <LiveBadge state={live} />
      </header>
      {studies.error && <Problem error={studies.error} />}
      {studies.value && studies.value.length === 0 && <p>No studies in this store yet: <code>sgdlab run STUDY.yaml --db …</code> adds one.</p>}
      {studies.value && studies.value.length > 0 && (
        <table class="studies" aria-label="studies">
          <thead>
            <tr>
              <th scope="col">study</th>
              <th scope="col">progress</th>
              <th scope="col">trials</th>
              <th scope="col">ETA</th>
              <th scope="col">created</th>
              <th scope="col">last change</th>
            </tr>
          </thead>
          <tbody>
            {studies.value.map((s) => (
              <tr key={s.name} data-study={s.name}>
                <td>
                  <Link href={studyPath(s.name)} class="study-name">{s.name}</Link>
                  {s.description && <div class="description">{s.description}</div>}
                </td>
                <td class="progress-cell">
                  <ProgressBar progress={s.progress} label={`progress of ${s.name}`} />
                  <div class="sub">{s.progress.done}/{s.progress.total} trials{s.progress.measurementsTotal > 0 ? `, ${s.progress.measurementsDone}/${s.progress.measurementsTotal} measurements` : ''}</div>
                </td>
                <td><Counts entry={s} /></td>
                <td class="eta" data-eta>{eta(s.progress)}</td>
                <td title={s.createdAt}>{ago(s.createdAt)}</td>
                <td title={s.updatedAt}>{ago(s.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
