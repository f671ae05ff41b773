/** The built-in qian-klabjan at smoke size, end to end (see smoke-testing.ts). */
import { test } from 'node:test';
import { smokeRun, smokeTitle } from './smoke-testing.js';

test(smokeTitle('qian-klabjan'), async () => {
  await smokeRun('qian-klabjan');
});
