#!/usr/bin/env node
/**
 * `otactl` launcher: bundles bin/otactl.ts with esbuild (as bin/start-local.mjs does for the local
 * platform) into node_modules/.cache/otactl/otactl.cjs and runs it. The bundle is rebuilt only when
 * one of its input files is newer than it (esbuild's metafile lists them), so repeated commands
 * start fast. otactl never imports the embedded peers; they stay external in case a transitive
 * import ever names them.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'otactl');
const outfile = join(cacheDir, 'otactl.cjs');
const inputsFile = join(cacheDir, 'inputs.json');

function upToDate() {
  if (!existsSync(outfile) || !existsSync(inputsFile)) return false;
  try {
    const built = statSync(outfile).mtimeMs;
    const inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
    return inputs.every((f) => statSync(join(root, f)).mtimeMs <= built);
  } catch {
    return false; // an input vanished or the list is unreadable: rebuild
  }
}

if (!upToDate()) {
  const result = await build({
    entryPoints: [join(root, 'bin', 'otactl.ts')],
    outfile,
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['dynalite', 's3rver'],
    metafile: true,
    absWorkingDir: root,
    logLevel: 'warning',
  });
  // Write-then-rename: a concurrent otactl never loads a half-written bundle.
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  writeFileSync(tmp, result.outputFiles[0].contents);
  renameSync(tmp, outfile);
  // Own sources only: node_modules change only with an install, which clears nothing we need.
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
  writeFileSync(`${inputsFile}.${process.pid}.tmp`, JSON.stringify(inputs));
  renameSync(`${inputsFile}.${process.pid}.tmp`, inputsFile);
}
process.setSourceMapsEnabled(true);
await import(pathToFileURL(outfile).href);
