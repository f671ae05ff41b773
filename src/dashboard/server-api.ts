/**
 * The read-only JSON API over the study store (/api/…, never cached): studies, a study's report,
 * its trials (filtered, sorted and paged), a trial, its curves and its checkpoint files.
 */
import type { Context, Hono } from 'hono';
import type { DashboardData } from './data.js';
import { intParam, parseTrialQuery } from './query-params.js';

const notFound = (c: Context, what: string) => c.json({ error: `${what} not found` }, 404);

/** A study's report: 202 while it is computed, then its JSON (gzipped when the browser takes it). */
async function sendReport(c: Context, data: DashboardData, study: string) {
  const report = await data.report(study);
  if (!report) return notFound(c, 'study');
  // Not computed yet (the first visit of a large study): the page waits for the 'report' event.
  if (!report.ready) return c.json({ computing: true }, 202);
  c.header('Content-Type', 'application/json; charset=utf-8');
  c.header('Vary', 'Accept-Encoding');
  if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
    c.header('Content-Encoding', 'gzip');
    return c.body(new Uint8Array(report.ready.gzip));
  }
  return c.body(new Uint8Array(report.ready.json));
}

export function apiRoutes(app: Hono, data: DashboardData): void {
  app.use('/api/*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    await next();
  });
  app.get('/api/studies', async (c) => c.json(await data.studies()));
  app.get('/api/studies/:name', async (c) => {
    const detail = await data.study(c.req.param('name'));
    return detail ? c.json(detail) : notFound(c, 'study');
  });
  app.get('/api/studies/:name/report', (c) => sendReport(c, data, c.req.param('name')));
  app.get('/api/studies/:name/trials', async (c) => {
    const detail = await data.study(c.req.param('name'));
    if (!detail) return notFound(c, 'study');
    const query = parseTrialQuery(new URL(c.req.url).searchParams, detail.axes.map((a) => a.path));
    return c.json(await data.trials(detail.name, query));
  });
  app.get('/api/studies/:name/trials/:key', async (c) => {
    const trial = await data.trial(c.req.param('name'), c.req.param('key'));
    return trial ? c.json(trial) : notFound(c, 'trial');
  });
  app.get('/api/studies/:name/trials/:key/curves', async (c) => {
    const points = intParam(c.req.query('points'), 'points', 1000, 20_000, 10);
    const curves = await data.curves(c.req.param('name'), c.req.param('key'), points);
    return curves ? c.json(curves) : notFound(c, 'trial');
  });
  app.get('/api/studies/:name/trials/:key/checkpoint/:file', async (c) => {
    const file = await data.checkpointFile(c.req.param('name'), c.req.param('key'), c.req.param('file'));
    if (!file) return notFound(c, 'checkpoint file');
    c.header('Content-Type', 'application/octet-stream');
    c.header('Content-Disposition', `attachment; filename="${c.req.param('key')}-${file.name}"`);
    return c.body(new Uint8Array(file.data));
  });
}
