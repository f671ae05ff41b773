/**
 * randintRows and randpermRows against the per-generator calls they replace: the same numbers in every row,
 * and every generator left where those calls leave it (the next draws agree too).
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from './index.js';

const seeds = [3, 17, 1_000_003, 42];
const rows = (t: T.Tensor) => t.toArray() as number[][];

test('randintRows: row k is randint(low, high, [count]) from generator k, which then continues as after that call', () => {
  const one = seeds.map((s) => new T.Generator(s));
  const many = seeds.map((s) => new T.Generator(s));
  for (const [low, high, count] of [[0, 1024, 7], [5, 9, 1], [0, 60000, 512]] as const) {
    const expected = one.map((g) => T.randint(low, high, [count], { generator: g }).toArray() as number[]);
    const got = T.randintRows(many, low, high, count);
    assert.deepEqual(got.shape, [seeds.length, count]);
    assert.equal(got.dtype, 'int64');
    assert.deepEqual(rows(got), expected);
  }
});

test('randpermRows: row k is the first count entries of randperm(n) from generator k, which then continues as after that call', () => {
  const one = seeds.map((s) => new T.Generator(s));
  const many = seeds.map((s) => new T.Generator(s));
  for (const [n, count] of [[1024, 16], [10, 10], [5, 0]] as const) {
    const expected = one.map((g) => T.randperm(n, { generator: g }).narrow(0, 0, count).toArray() as number[]);
    assert.deepEqual(rows(T.randpermRows(many, n, count)), expected);
  }
});

test('randintRows and randpermRows: bad arguments are errors that name them', () => {
  const g = [new T.Generator(0)];
  assert.throws(() => T.randintRows(g, 3, 3, 2), /randintRows: needs low < high/);
  assert.throws(() => T.randpermRows(g, 4, 5), /randpermRows: needs 0 <= count <= n/);
  assert.throws(() => T.randintRows(g, 0, 4, 1.5), /randintRows/);
  assert.throws(() => T.randintRows([{ handle: {} } as unknown as T.Generator], 0, 4, 1), /element 0 is not a generator handle/);
});
