#!/usr/bin/env node
/** The `otactl` command (package `bin`): bin/otactl.ts, bundled and cached by bin/bundle.mjs. */
import { runBundled } from './bundle.mjs';

await runBundled('otactl');
