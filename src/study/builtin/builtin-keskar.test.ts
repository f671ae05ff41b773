/** The built-in keskar at smoke size, end to end (see smoke-testing.ts). */
import { test } from 'node:test';
import { smokeRun, smokeTitle } from './smoke-testing.js';

test(smokeTitle('keskar'), async () => {
  await smokeRun('keskar');
});
