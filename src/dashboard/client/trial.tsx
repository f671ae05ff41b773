/** A trial: its configuration, status and error, learning curves that grow while it trains, measurements, checkpoint. */
import { useEffect, useState } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';
import type { TrialCurves, TrialDetail } from '../api.js';
import { CURVES_DATASET, curveRows } from '../curve-rows.js';
import { apiTrial, studyPath, useJson, useLive, type Loaded } from './api.js';
import { LiveBadge, Pairs, Problem } from './common.js';
import { VegaFigure } from './figure.js';
import { ago, bytes, duration, number } from './format.js';
import { Link } from './router.js';

/** Status, times, worker and attempt; the live step while it trains; its error; its grid coordinates. */
function TrialSummary({ t }: { t: TrialDetail }) {
  return (
    <>
      <p>
        <span class={`badge status-${t.status}`} data-status>{t.status}</span>
        {t.seconds !== null && <> · {duration(t.seconds)}</>}
        {t.startedAt && <> · started <span title={t.startedAt}>{ago(t.startedAt)}</span></>}
        {t.finishedAt && <> · finished <span title={t.finishedAt}>{ago(t.finishedAt)}</span></>}
        {t.worker && <> · worker <code>{t.worker}</code></>}
        {t.attempt !== null && t.attempt > 1 && <> · attempt {t.attempt}</>}
      </p>
      {t.live && (
        <p class="live-worker" data-live-step>
          training: step {t.live.step ?? '–'}/{t.live.totalSteps ?? '?'}, loss {number(t.live.loss)},{' '}
          {t.live.rssMb === null ? '' : `${Math.round(t.live.rssMb)} MB`}
        </p>
      )}
      {t.status === 'pruned' && (
        <p class="pruned-note" data-pruned>stopped early by the study's pruning rule: its curves end at the rung that stopped it (<code>pruned.*</code> in the result says where, on what value, and why)</p>
      )}
      {t.error && (
        <section aria-labelledby="error-title">
          <h2 id="error-title">Error</h2>
          <pre class="error-text" data-error>{t.error}</pre>
        </section>
      )}
      <section aria-labelledby="grid-title">
        <h2 id="grid-title">Grid coordinates</h2>
        <Pairs pairs={Object.entries(t.coordinates)} label="grid coordinates" />
      </section>
    </>
  );
}

/**
 * The learning curves: drawn once from the first answer that has points; later answers (the trial
 * trains on) only replace the figure's data.
 */
function CurvesSection({ trialKey, curves, running }: { trialKey: string; curves: Loaded<TrialCurves>; running: boolean }) {
  const [spec, setSpec] = useState<TopLevelSpec | undefined>(undefined);
  useEffect(() => {
    if (curves.value && !spec && curves.value.points.length > 0) setSpec(curves.value.spec);
  }, [curves.value]);
  return (
    <section aria-labelledby="curves-title">
      <h2 id="curves-title">Learning curves</h2>
      {curves.error && <Problem error={curves.error} />}
      {curves.value && (
        <p class="sub" data-curve-points={curves.value.points.length}>
          {curves.value.points.length} points drawn of {curves.value.stored} stored{running ? '; they grow while the trial trains' : ''}.
        </p>
      )}
      {curves.value && curves.value.points.length === 0 && <p class="sub">No metrics stored yet.</p>}
      {spec && curves.value && (
        <VegaFigure
          id={`trial-${trialKey}-curves`} title="Learning curves"
          caption="Sampled minibatch loss along training and every evaluation; one panel per quantity."
          spec={spec} live={{ dataset: CURVES_DATASET, values: curveRows(curves.value.points) }}
        />
      )}
    </section>
  );
}

function Measurements({ measurements }: { measurements: TrialDetail['measurements'] }) {
  return (
    <section aria-labelledby="measurements-title">
      <h2 id="measurements-title">Measurements</h2>
      <table class="measurements">
        <thead><tr><th scope="col">kind</th><th scope="col">status</th><th scope="col">values</th><th scope="col">time</th></tr></thead>
        <tbody>
          {measurements.map((m, i) => (
            <tr key={i}>
              <td>{m.kind}</td>
              <td><span class={`badge status-${m.status}`}>{m.status}</span>{m.error && <pre class="error-text">{m.error}</pre>}</td>
              <td>{m.values.map(([k, v]) => <div key={k}>{k} = {v}</div>)}</td>
              <td>{duration(m.seconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Checkpoint({ files, apiPath }: { files: TrialDetail['checkpoint']; apiPath: string }) {
  return (
    <section aria-labelledby="checkpoint-title">
      <h2 id="checkpoint-title">Checkpoint</h2>
      {files.length === 0 ? <p class="sub">No checkpoint stored (studies keep checkpoints when they measure their trials).</p> : (
        <ul class="downloads">
          {files.map((f) => (
            <li key={f.name}>
              <a href={`${apiPath}/checkpoint/${encodeURIComponent(f.name)}`} download>{f.name}</a> <span class="sub">({bytes(f.bytes)})</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** What the trial left: its result, measurements, checkpoint files and full configuration. */
function TrialOutputs({ t, apiPath }: { t: TrialDetail; apiPath: string }) {
  return (
    <>
      {t.result.length > 0 && (
        <section aria-labelledby="result-title">
          <h2 id="result-title">Result</h2>
          <Pairs pairs={t.result} label="result" />
        </section>
      )}
      {t.measurements.length > 0 && <Measurements measurements={t.measurements} />}
      <Checkpoint files={t.checkpoint} apiPath={apiPath} />
      <section aria-labelledby="config-title">
        <h2 id="config-title">Configuration</h2>
        <pre class="config">{JSON.stringify(t.config, null, 2)}</pre>
      </section>
    </>
  );
}

export function TrialPage({ name, trialKey }: { name: string; trialKey: string }) {
  const trial = useJson<TrialDetail>(apiTrial(name, trialKey));
  const curves = useJson<TrialCurves>(`${apiTrial(name, trialKey)}/curves?points=1000`);
  const live = useLive({ study: name, trial: trialKey }, (e) => {
    if (e.type === 'trial' || e.type === 'reconnected') {
      trial.reload();
      curves.reload();
    }
  });
  const t = trial.value;
  return (
    <main>
      <nav class="crumbs" aria-label="breadcrumbs">
        <Link href="/">Studies</Link> / <Link href={studyPath(name)}>{name}</Link> / <span>{trialKey}</span>
      </nav>
      <header class="page-header">
        <h1>Trial {trialKey}</h1>
        <LiveBadge state={live} />
      </header>
      {trial.error && <Problem error={trial.error} />}
      {t && <TrialSummary t={t} />}
      <CurvesSection trialKey={trialKey} curves={curves} running={t?.status === 'running'} />
      {t && <TrialOutputs t={t} apiPath={apiTrial(name, trialKey)} />}
    </main>
  );
}
