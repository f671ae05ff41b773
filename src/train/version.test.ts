/** The version that keys every trial: read from sgdlab's package.json, and a loud failure without one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sgdlabVersion } from './version.js';

test("the version is package.json's", () => {
  assert.equal(sgdlabVersion(), (JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string }).version);
});

test('without an sgdlab package.json above it, reading the version throws and names where it looked (no silent "unknown")', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-version-'));
  try {
    // The compiled module alone, under a package.json of another package.
    copyFileSync(fileURLToPath(new URL('./version.js', import.meta.url)), join(dir, 'version.mjs'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'not-sgdlab', version: '9.9.9' }));
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { sgdlabVersion } from ${JSON.stringify(join(dir, 'version.mjs'))}; console.log(sgdlabVersion());`], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /no package\.json of the sgdlab package above .*version\.mjs; looked at .*package\.json \(package "not-sgdlab"\)/);
    assert.doesNotMatch(r.stdout, /unknown|9\.9\.9/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
