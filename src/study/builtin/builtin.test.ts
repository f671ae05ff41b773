/**
 * The built-in studies: every one runs at smoke size end to end (trials, measurements, report), every
 * size is a valid study, `builtin list/show` print them, and bad names or sizes say what exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUILTIN_SIZES, BUILTIN_STUDIES, builtinStudy, expandTrials, parseStudy, SqliteStudyStore } from '../index.js';

const root = new URL('../../../../', import.meta.url).pathname;
const sgdlab = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'sgdlab.js'), ...args], { encoding: 'utf8', cwd: root });
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-builtin-'));

test('every size of every built-in study is a valid study whose trials expand', () => {
  for (const b of BUILTIN_STUDIES) {
    for (const size of BUILTIN_SIZES) {
      const study = builtinStudy(b.name, size);
      assert.equal(study.name, b.name);
      assert.ok(expandTrials(study, '0.0.0').length > 0);
    }
    assert.ok(expandTrials(builtinStudy(b.name, 'smoke'), '0').length <= expandTrials(builtinStudy(b.name, 'quick'), '0').length);
  }
});

for (const b of BUILTIN_STUDIES) {
  test(`built-in ${b.name}: the smoke size runs, measures and reports`, () => {
    const db = join(dir, `${b.name}.db`);
    const out = join(dir, `${b.name}-report`);
    const r = sgdlab('run', '--builtin', b.name, '--size', 'smoke', '--db', db, '--report', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${b.name}: \\d+ completed, \\d+ diverged, 0 failed, 0 left`));
    const store = new SqliteStudyStore(db);
    const measurements = store.measurements(b.name);
    store.close();
    assert.ok(measurements.every((m) => m.status === 'completed'), measurements.filter((m) => m.status !== 'completed').map((m) => `${m.kind}: ${m.error}`).join('; '));
    assert.ok(existsSync(join(out, 'index.html')));
    const pngs = readdirSync(out).filter((f) => f.endsWith('.png'));
    assert.ok(pngs.length >= 3, `figures: ${pngs.join(', ')}`);
  });
}

test('builtin list and show; bad names and sizes name what exists', () => {
  const list = sgdlab('builtin', 'list');
  assert.equal(list.status, 0, list.stderr);
  for (const b of BUILTIN_STUDIES) assert.match(list.stdout, new RegExp(`^${b.name} — `, 'm'));
  const shown = sgdlab('builtin', 'show', 'keskar', '--size', 'smoke');
  assert.deepEqual(parseStudy(parse(shown.stdout)), builtinStudy('keskar', 'smoke'), 'show prints a study file that parses back to the same study');
  const bad = sgdlab('run', '--builtin', 'hoffer', '--db', join(dir, 'x.db'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, new RegExp(`--builtin: 'hoffer' is not a built-in study; built-in studies: ${BUILTIN_STUDIES.map((x) => x.name).join(', ')}`));
  const size = sgdlab('run', '--builtin', 'keskar', '--size', 'huge', '--db', join(dir, 'x.db'));
  assert.equal(size.status, 2);
  assert.match(size.stderr, /--size: 'huge' must be one of smoke, quick, full/);
  assert.match(sgdlab('run', '--db', join(dir, 'x.db')).stderr, /give a study file \(sgdlab run STUDY\.yaml\) or a built-in study/);
});
