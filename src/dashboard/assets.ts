/**
 * The client's files (built by scripts/build-dashboard.mjs into dist/dashboard/), read into memory
 * once at start, with their gzip form and an ETag. Static routes look a name up in this table and
 * nothing else: no request path ever reaches the file system, so no path can leave the folder
 * (`..`, `%2f`, symbolic links: whatever is not a built file's name answers 404).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Where the build puts the client: dist/dashboard/, beside the compiled server (dist/src/dashboard/). */
export const CLIENT_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

export function loadAssets(dir = CLIENT_DIR): Map<string, Asset> {
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, 'app.js'))) {
    throw new Error(`the dashboard's client is not built (no ${join(dir, 'app.js')}): run npm run build, or bash scripts/setup.sh`);
  }
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const type = TYPES[extname(name)];
    if (!type || !statSync(path).isFile()) continue;
    const body = readFileSync(path);
    assets.set(name, {
      body,
      gzip: body.length > 1024 && !type.startsWith('image/png') ? gzipSync(body, { level: 9 }) : undefined,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return assets;
}
