#!/usr/bin/env node
// The installed `sgdlab` command: runs the compiled CLI (npm run build or the setup compiles it).
import('../dist/src/cli/main.js').catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
