#!/usr/bin/env node
/**
 * `npm run build:cli`: otactl as one self-contained file, dist/otactl.cjs — every dependency
 * (commander, the AWS SDK's S3 client and SigV4 signer, credential providers) bundled in, so it
 * runs with nothing but Node 22: `node otactl.cjs …`, or `./otactl.cjs …` (it carries a shebang).
 * CI downloads this one file instead of cloning and installing the platform repository.
 *
 *   node bin/build-cli.mjs [--outfile <path>]
 */
import { build } from 'esbuild';
import { chmodSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--outfile');
const outfile = i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : join(root, 'dist', 'otactl.cjs');

const result = await build({
  entryPoints: [join(root, 'bin', 'otactl.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  keepNames: true,
  legalComments: 'eof',
  // bin/otactl.ts starts with `#!/usr/bin/env node`; esbuild keeps it.
  // Nothing external: the bundle must run outside a checkout, without node_modules.
  external: [],
  absWorkingDir: root,
  logLevel: 'warning',
  metafile: true,
});
chmodSync(outfile, 0o755);
const external = Object.values(result.metafile.outputs).flatMap((o) =>
  o.imports.filter((x) => x.external && !x.path.startsWith('node:') && !builtinModules.includes(x.path)).map((x) => x.path),
);
if (external.length) {
  process.stderr.write(`build:cli: the bundle still imports ${[...new Set(external)].join(', ')}\n`);
  process.exit(1);
}
process.stdout.write(`${outfile}  ${(statSync(outfile).size / 1024).toFixed(0)} KiB\n`);
