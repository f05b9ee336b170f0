#!/usr/bin/env node
/** `node bin/run.mjs <local|demo>`: `npm start` and `npm run demo` (see bin/bundle.mjs). */
import { runBundled } from './bundle.mjs';

const name = process.argv[2];
if (name !== 'local' && name !== 'demo') {
  process.stderr.write('usage: node bin/run.mjs <local|demo>\n');
  process.exit(2);
}
await runBundled(name);
