#!/usr/bin/env node
/** `node bin/run.mjs <local|demo|openapi>`: `npm start`, `npm run demo`, `npm run openapi` (see bin/bundle.mjs). */
import { runBundled } from './bundle.mjs';

const name = process.argv[2];
if (!['local', 'demo', 'openapi'].includes(name)) {
  process.stderr.write('usage: node bin/run.mjs <local|demo|openapi>\n');
  process.exit(2);
}
await runBundled(name);
