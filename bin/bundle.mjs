/**
 * Runs `bin/<name>.ts` bundled with esbuild — exactly as the CDK bundles each Lambda, so the
 * handlers run the same code on the laptop. (middy 7 is ESM-only; a bundle sidesteps the
 * CommonJS/ESM interop a TypeScript loader cannot.) The bundle is rebuilt only when one of its own
 * input files is newer than it (esbuild's metafile lists them), so repeated runs start fast, and
 * it is written then renamed, so a concurrent run never loads a half-written file. The embedded
 * peers stay external: dynalite carries a native binding.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function runBundled(name) {
  // Keyed by checkout too: git worktrees may share one node_modules (and so one cache).
  const cacheDir = join(root, 'node_modules', '.cache', 'ota-bin', createHash('sha256').update(root).digest('hex').slice(0, 12));
  const outfile = join(cacheDir, `${name}.cjs`);
  const inputsFile = join(cacheDir, `${name}.inputs.json`);

  const upToDate = () => {
    if (!existsSync(outfile) || !existsSync(inputsFile)) return false;
    try {
      const built = statSync(outfile).mtimeMs;
      return JSON.parse(readFileSync(inputsFile, 'utf8')).every((f) => statSync(join(root, f)).mtimeMs <= built);
    } catch {
      return false; // an input vanished or the list is unreadable: rebuild
    }
  };

  if (!upToDate()) {
    const result = await build({
      entryPoints: [join(root, 'bin', `${name}.ts`)],
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
    mkdirSync(cacheDir, { recursive: true });
    const write = (file, contents) => {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, contents);
      renameSync(tmp, file);
    };
    write(outfile, result.outputFiles[0].contents);
    // Own sources only: node_modules change only with an install.
    write(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'))));
  }
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(outfile).href);
}
