/** Small pieces every page uses. */
import type { LiveState } from './api.js';

export function LiveBadge({ state }: { state: LiveState }) {
  const text = state === 'live' ? 'live' : state === 'connecting' ? 'connecting…' : 'reconnecting…';
  return <span class={`live live-${state}`} role="status" aria-live="polite" title="changes are pushed by the server as they happen">{text}</span>;
}

export function Problem({ error }: { error: Error }) {
  return <p class="error" role="alert">{error.message}</p>;
}

/** Key → value pairs as a definition list (values are text, whatever they contain). */
export function Pairs({ pairs, label }: { pairs: readonly (readonly [string, string])[]; label: string }) {
  return (
    <dl class="pairs" aria-label={label}>
      {pairs.map(([k, v]) => (
        <div key={k} class="pair">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
