#!/usr/bin/env node
/**
 * Runs `bin/<name>.ts` (`npm start` → local, `npm run demo` → demo): bundles it with esbuild —
 * exactly as the CDK bundles each Lambda, so the handlers run the same code on the laptop — and
 * imports the bundle. (middy 7 is ESM-only; a bundle sidesteps CommonJS/ESM interop that a
 * TypeScript loader cannot.) The embedded peers stay external: dynalite carries a native binding.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const name = process.argv[2];
if (!name || !/^[a-z-]+$/.test(name)) {
  process.stderr.write('usage: node bin/run.mjs <local|demo>\n');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'node_modules', '.cache', 'ota-run', `${name}.cjs`);

await build({
  entryPoints: [join(root, 'bin', `${name}.ts`)],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['dynalite', 's3rver'],
  logLevel: 'warning',
});
process.setSourceMapsEnabled(true);
await import(pathToFileURL(outfile).href);
