/**
 * Password redaction of store URLs: in the user-info part (with `@` and `:` inside the password, or
 * percent-encoded) and in a `password=` parameter; URLs without a password untouched; the PostgreSQL
 * store's close() redacts its errors too. The expected strings are written out by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStudyStore } from './pg-store.js';
import { redactSecrets, redactUrl, urlPasswords } from './store-url.js';

/** Redacts `text` as the store does for errors of the store opened with `url`. */
const redactFor = (url: string, text: string) => redactSecrets(text, urlPasswords(url));

test('store-url: a password in the query string (?password=) is found and redacted, with the other parameters kept', () => {
  const url = 'postgres://sgdlab@db.example:5432/studies?sslmode=require&password=s3cret&application_name=w1';
  assert.deepEqual(urlPasswords(url), ['s3cret']);
  assert.equal(redactUrl(url), 'postgres://sgdlab@db.example:5432/studies?sslmode=require&password=***&application_name=w1');
  assert.equal(redactUrl('postgresql://h/db?PASSWORD=s3cret'), 'postgresql://h/db?PASSWORD=***', 'the parameter name in any case');
  assert.equal(redactFor(url, 'password authentication failed: s3cret rejected'), 'password authentication failed: *** rejected');
});

test('store-url: a percent-encoded password is redacted in its encoded and its decoded form', () => {
  const url = 'postgres://sgdlab:p%40ss%3Aw%2Fd@db.example/studies';
  assert.deepEqual(urlPasswords(url), ['p%40ss%3Aw%2Fd', 'p@ss:w/d']);
  assert.equal(redactUrl(url), 'postgres://sgdlab:***@db.example/studies');
  assert.equal(redactFor(url, 'the server said: p@ss:w/d is wrong; sent p%40ss%3Aw%2Fd'), 'the server said: *** is wrong; sent ***');
  assert.deepEqual(urlPasswords('postgres://u@h/db?password=a%26b'), ['a%26b', 'a&b']);
});

test('store-url: `@` and `:` inside the password: the user-info part ends at the last `@` before the host', () => {
  const url = 'postgres://sgdlab:p@ss:w@rd@db.example:5432/studies';
  // Node's URL (WHATWG) reads it so: the password is everything after the first `:` up to the last `@`.
  assert.equal(decodeURIComponent(new URL(url).password), 'p@ss:w@rd');
  assert.equal(new URL(url).host, 'db.example:5432');
  assert.deepEqual(urlPasswords(url), ['p@ss:w@rd']);
  assert.equal(redactUrl(url), 'postgres://sgdlab:***@db.example:5432/studies');
  assert.equal(redactSecrets(`cannot reach ${url}: refused`, []), 'cannot reach postgres://sgdlab:***@db.example:5432/studies: refused', 'a URL in free text, secret unknown');
  assert.equal(redactFor(url, 'pg: p@ss:w@rd'), 'pg: ***');
});

test('store-url: a URL without a password is left as it is', () => {
  for (const url of ['postgres://sgdlab@db.example:5432/studies?sslmode=require', 'postgresql://db.example/studies', 'postgres:///studies?host=/var/run/postgresql', '/data/study.db', 'sqlite:runs/x.db']) {
    assert.deepEqual(urlPasswords(url), [], url);
    assert.equal(redactUrl(url), url);
    assert.equal(redactSecrets(`opened ${url}`, urlPasswords(url)), `opened ${url}`);
  }
});

test("store-url: close()'s error cannot print the password (its message and stack are redacted); a second close does nothing", async () => {
  const password = 'hunter2@x:y';
  const url = `postgres://sgdlab:${encodeURIComponent(password)}@127.0.0.1:1/studies`;
  const store = new PostgresStudyStore(url, {}); // connects on first use: never here
  // What pg could say while ending its connections: errors that quote the connection string.
  const quoting = new Error(`connection ${url} (password ${password}) ended badly`);
  quoting.stack = `Error: ${quoting.message}\n    at end (${url})`;
  const pool = (store as unknown as { pool: { end(): Promise<void> } }).pool;
  const realEnd = pool.end.bind(pool);
  pool.end = () => Promise.reject(quoting);
  const error = await store.close().then(() => undefined, (e: unknown) => e as Error);
  assert.ok(error instanceof Error, 'close() rejected');
  for (const secret of [password, encodeURIComponent(password)]) {
    assert.ok(!error.message.includes(secret), `message: ${error.message}`);
    assert.ok(!(error.stack ?? '').includes(secret), `stack: ${error.stack}`);
  }
  assert.match(error.message, /postgres:\/\/sgdlab:\*\*\*@127\.0\.0\.1:1\/studies/);
  pool.end = realEnd;
  await store.close(); // closed already: nothing to redo, nothing thrown
  const fresh = new PostgresStudyStore(url, {});
  await fresh.close();
  await fresh.close();
});
