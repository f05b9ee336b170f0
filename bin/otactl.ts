#!/usr/bin/env node
/**
 * otactl — the operator CLI (publish firmware; products, firmware, deployments, devices; a
 * simulated fleet). `node bin/otactl.mjs …` bundles this file and runs it; the command tree is
 * lib/cli/program.ts, the command functions live in lib/cli/commands and lib/cli/publish.ts.
 */
import { run } from '../lib/cli/program';

const interrupt = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  // First Ctrl-C: let `deploy status --watch` stop cleanly; a second one exits at once.
  if (interrupted) process.exit(130);
  interrupted = true;
  interrupt.abort();
});

run(process.argv.slice(2), { signal: interrupt.signal }).then(
  (code) => {
    // `publish` may leave keep-alive sockets open: exit once stdout/stderr are flushed.
    process.exitCode = interrupted && code === 0 ? 130 : code;
    process.stdout.write('', () => process.stderr.write('', () => process.exit(process.exitCode)));
  },
  (e) => {
    process.stderr.write(`otactl: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
