#!/usr/bin/env node
/**
 * `npm start`: bundles bin/local.ts with esbuild — exactly as the CDK bundles each Lambda, so the
 * handlers run the same code on the laptop — and runs it. (middy 7 is ESM-only; a bundle sidesteps
 * CommonJS/ESM interop that a TypeScript loader cannot.) The embedded peers stay external:
 * dynalite carries a native LevelDB binding.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'node_modules', '.cache', 'ota-local', 'local.cjs');

await build({
  entryPoints: [join(root, 'bin', 'local.ts')],
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
