/**
 * The live stream (/api/events, Server-Sent Events): a page subscribes to the changes of all studies,
 * of one study, or of one trial, and a comment line every 20 s keeps an idle stream open.
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LiveEvent } from './api.js';
import type { LiveHub } from './events.js';

const MAX_LISTENERS = 256;
const KEEPALIVE_MS = 20_000;

export function eventRoutes(app: Hono, hub: LiveHub): void {
  app.get('/api/events', (c) => {
    if (hub.size >= MAX_LISTENERS) return c.text('too many live pages open', 503);
    const study = c.req.query('study') || undefined;
    const trial = study === undefined ? undefined : c.req.query('trial') || undefined;
    return streamSSE(c, async (stream) => {
      let open = true;
      const send = (event: LiveEvent) => {
        if (open) void stream.writeSSE({ event: event.type, data: JSON.stringify(event) }).catch(() => undefined);
      };
      const unsubscribe = hub.subscribe({ study, trial, send });
      await stream.writeSSE({ event: 'hello', data: '{}', retry: 1000 });
      await new Promise<void>((resolve) => {
        const keepalive = setInterval(() => void stream.write(': keepalive\n\n').catch(() => undefined), KEEPALIVE_MS);
        stream.onAbort(() => {
          open = false;
          clearInterval(keepalive);
          unsubscribe();
          resolve();
        });
      });
    });
  });
}
