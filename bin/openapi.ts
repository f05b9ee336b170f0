/** `npm run openapi`: writes docs/openapi.json from the contract (a test fails when it is stale). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiJson } from '../lambdas/contract/openapi';

// npm runs scripts from the package root (the bundle itself lives in node_modules/.cache).
const out = join(process.cwd(), 'docs', 'openapi.json');
writeFileSync(out, openApiJson());
process.stdout.write(`wrote ${out}\n`);
