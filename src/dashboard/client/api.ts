/** Fetching from the dashboard's API, and listening to its live stream of changes. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveEvent } from '../api.js';

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = ((await response.json()) as { error?: string }).error ?? message;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, message);
  }
  // The server is this same build: api.ts types what each route answers, and the server builds its answers to those types.
  return (await response.json()) as T;
}

export const studyPath = (name: string) => `/studies/${encodeURIComponent(name)}`;
export const trialPath = (name: string, key: string) => `${studyPath(name)}/trials/${encodeURIComponent(key)}`;
export const apiStudy = (name: string) => `/api/studies/${encodeURIComponent(name)}`;
export const apiTrial = (name: string, key: string) => `${apiStudy(name)}/trials/${encodeURIComponent(key)}`;

export interface Loaded<T> {
  value: T | undefined;
  error: ApiError | Error | undefined;
  /** Fetch again (keeps showing the last value meanwhile). */
  reload: () => void;
}

/** A value fetched from `path`, fetched again on reload(); answers that arrive out of order are dropped. */
export function useJson<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ value: T | undefined; error: Error | undefined }>({ value: undefined, error: undefined });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    if (path === null) return;
    const id = ++latest.current;
    getJson<T>(path).then(
      (value) => id === latest.current && setState({ value, error: undefined }),
      (error: Error) => id === latest.current && setState((s) => ({ value: s.value, error })),
    );
  }, [path, tick]);
  useEffect(() => setState({ value: undefined, error: undefined }), [path === null ? '' : path.split('?')[0]]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * Listens to the server's changes for a page (Server-Sent Events; the browser reconnects by itself).
 * `onEvent` is called with each change; on reconnecting, with every kind, since changes may have been missed.
 */
export function useLive(params: { study?: string; trial?: string }, onEvent: (e: LiveEvent | { type: 'reconnected' }) => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    const query = new URLSearchParams();
    if (params.study !== undefined) query.set('study', params.study);
    if (params.trial !== undefined) query.set('trial', params.trial);
    const source = new EventSource(`/api/events?${query}`);
    let connectedBefore = false;
    source.addEventListener('hello', () => {
      setState('live');
      if (connectedBefore) handler.current({ type: 'reconnected' });
      connectedBefore = true;
    });
    // As getJson: the server sends api.ts's LiveEvent.
    for (const type of ['studies', 'study', 'workers', 'report', 'trial'] as const) {
      source.addEventListener(type, (e) => handler.current(JSON.parse((e as MessageEvent<string>).data) as LiveEvent));
    }
    source.onerror = () => setState('reconnecting');
    return () => source.close();
  }, [params.study, params.trial]);
  return state;
}
