/**
 * The client's files: the page (index.html) at every client route, the rest under /assets/, each
 * looked up by name in the table loaded at start (assets.ts says why no path reaches the file system).
 */
import type { Context, Hono } from 'hono';
import type { Asset } from './assets.js';

/** One asset, revalidated by its ETag on every visit, gzipped when the browser takes it. */
function sendAsset(c: Context, asset: Asset) {
  c.header('ETag', asset.etag);
  c.header('Cache-Control', 'no-cache');
  c.header('Vary', 'Accept-Encoding');
  if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
  c.header('Content-Type', asset.type);
  if (asset.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
    c.header('Content-Encoding', 'gzip');
    return c.body(new Uint8Array(asset.gzip));
  }
  return c.body(new Uint8Array(asset.body));
}

export function staticRoutes(app: Hono, assets: ReadonlyMap<string, Asset>): void {
  const page = (c: Context) => sendAsset(c, assets.get('index.html')!);
  app.get('/', page);
  app.get('/studies/:name', page);
  app.get('/studies/:name/trials/:key', page);
  app.get('/assets/:file', (c) => {
    const asset = assets.get(c.req.param('file'));
    return asset && c.req.param('file') !== 'index.html' ? sendAsset(c, asset) : c.text('not found', 404);
  });
}
