/**
 * Live updates. While at least one page listens, the hub reads the store's cheap summaries every
 * `pollMs` (counts and last change of each study, the workers' heartbeats, the watched trials'
 * status) and tells each page what changed that it shows; the page then fetches that part again. A
 * study whose counts changed also has its report recomputed here, once for all pages, and a 'report'
 * event follows when it is ready. Pages are sent names of changes, never data, so an event can be
 * dropped or merged without a page showing anything stale for longer than one poll.
 */
import type { LiveEvent } from './api.js';
import type { DashboardData } from './data.js';

export interface Listener {
  /** The study page or trial page it shows (the studies page listens to the list only). */
  study?: string;
  trial?: string;
  send(event: LiveEvent): void;
}

export class LiveHub {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private last = new Map<string, string>();
  private polling = false;
  /** The last error of a poll (the store busy or gone), printed once until polls succeed again. */
  private failing: string | undefined;

  constructor(private readonly data: DashboardData, private readonly pollMs: number, private readonly log: (line: string) => void = () => {}) {
    data.onReport((study) => this.emit({ type: 'report', study }));
  }

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.last = new Map();
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      void this.poll();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private emit(event: LiveEvent): void {
    for (const l of this.listeners) {
      const wanted = event.type === 'studies' ? l.study === undefined
        : event.type === 'trial' ? l.study === event.study && l.trial === event.key
        : l.study === event.study;
      if (wanted) l.send(event);
    }
  }

  /** One poll: fingerprints of what the listeners show, compared with the last poll's. */
  private async poll(): Promise<void> {
    if (this.polling) return; // a slow store: skip a beat rather than pile up reads
    this.polling = true;
    try {
      const studies = new Set<string>();
      const trials: { study: string; key: string }[] = [];
      for (const l of this.listeners) {
        if (l.study !== undefined) studies.add(l.study);
        if (l.study !== undefined && l.trial !== undefined) trials.push({ study: l.study, key: l.trial });
      }
      const now = await this.data.fingerprints(studies, trials);
      for (const [id, print] of now) {
        const before = this.last.get(id);
        // Unchanged, or new (a page that just opened has fetched it already).
        if (before === print || before === undefined) continue;
        const [kind, study = '', key = ''] = id.split('\u0000');
        if (kind === 'studies') this.emit({ type: 'studies' });
        else if (kind === 'study') {
          this.emit({ type: 'study', study });
          // The report of the new version, computed once for every page that shows it ('report' follows when ready).
          void this.data.report(study).catch(() => undefined);
        } else if (kind === 'workers') this.emit({ type: 'workers', study });
        else if (kind === 'trial') this.emit({ type: 'trial', study, key });
      }
      this.last = now;
      this.failing = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (this.failing !== message) this.log(`live updates: cannot read the store: ${message}`);
      this.failing = message;
    } finally {
      this.polling = false;
    }
  }
}
