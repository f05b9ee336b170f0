/**
 * `npm run demo` runs in CI: the real entry point as a child process (bundled like `npm start`),
 * on a smaller fleet so it stays quick, with the outcome the README promises: the canary climbs
 * 1 % → 10 % → 100 % through its gates, and the failing build pauses itself.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

it('rolls a canary out through its steps and pauses the failing build by itself', () => {
  const root = join(__dirname, '..', '..');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'run.mjs'), 'demo'], {
    cwd: root,
    env: { ...process.env, DEMO_DEVICES: '400' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const out = r.stdout;
  expect(r.status).toBe(0);
  expect(out).toMatch(/sweeper: gate passed, promoted to 10 %/);
  expect(out).toMatch(/sweeper: gate passed, promoted to 100 %/);
  expect(out).toMatch(/paused: auto: (failure rate|\d+ failures)/);
  // The summary: the canary active at 100 %, the bad build paused; most of the fleet on the good build.
  expect(out).toMatch(/\s1\s+active\s+100 %/);
  expect(out).toMatch(/\s2\s+paused\s+100 %/);
  const onGood = Number(/(\d+) on 1\.1\.0/.exec(out)?.[1]);
  expect(onGood).toBeGreaterThan(300);
  expect(out).toMatch(/done in [\d.]+ s/);
}, 150_000);
