/** `npm run demo`: see lib/demo.ts. Finishes in well under a minute. */
import { runDemo } from '../lib/demo';

const started = Date.now();
runDemo({ devices: Number(process.env.DEMO_DEVICES ?? 2000) })
  .then(() => {
    process.stdout.write(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    process.exit(0);
  })
  .catch((e) => {
    process.stderr.write(`demo failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
