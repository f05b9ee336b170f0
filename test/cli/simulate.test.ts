/**
 * `otactl simulate` against the local platform: a fleet (lib/sim/fleet.ts) checks in over the
 * native protocol, downloads, verifies and reports; the deployment's counters agree with the stats.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgramDeps } from '../../lib/cli/program';
import { buildEspImage } from '../fixtures/esp-image';
import { otactlOn } from '../support/otactl';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';

jest.setTimeout(60_000);

let t: TestPlatform;
const tmp = mkdtempSync(join(tmpdir(), 'otactl-sim-'));
beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'sim', { firmware_type: 'Sim' });
});
afterAll(async () => {
  await t?.platform.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const otactl = (args: string[], deps: Partial<ProgramDeps> = {}) => otactlOn(t.platform, args, deps);

it('simulate --devices 20 --fail-rate 0.25: every device is offered the build, outcomes match the deployment counters', async () => {
  const dir = join(tmp, 'r1');
  mkdirSync(dir);
  writeFileSync(join(dir, 'sim.bin'), buildEspImage({ chip: 'esp32', version: '1.0.0', fill: 21 }));
  const pub = await otactl(['publish', dir, '--product', 'sim', '--version', '1.0.0', '--release']);
  expect(pub.code).toBe(0);
  const build = Number(pub.out.trim());
  const dep = (await otactl(['deploy', 'create', '--product', 'sim', '--build', String(build), '--percentage', '100', '--json'])).json();

  const sim = await otactl(['simulate', '--product', 'sim', '--devices', '20', '--fail-rate', '0.25', '--concurrency', '5', '--seed', '7', '--json']);
  expect(sim.code).toBe(0);
  const stats = sim.json();
  expect(stats).toMatchObject({ checks: 20, offers: 20, downloads: 20, verified: 20, noUpdate: 0, errors: 0 });
  expect(stats.succeeded + stats.failed).toBe(20);
  expect(stats.failed).toBeGreaterThan(0);
  expect(stats.succeeded).toBeGreaterThan(0);

  const status = (await otactl(['deploy', 'status', dep.deployment_id, '--product', 'sim', '--json'])).json();
  expect(status.counts).toMatchObject({ offered: 20, succeeded: stats.succeeded, rolled_back: stats.failed, in_flight: 0 });

  const human = await otactl(['simulate', '--product', 'sim', '--devices', '3', '--fail-rate', '0', '--id-prefix', '10:20:30']);
  expect(human.code).toBe(0);
  expect(human.out).toMatch(/^checks\s+3$/m);
  expect(human.out).toMatch(/^succeeded\s+3$/m);
  expect(human.err).toMatch(/simulating 3 native device\(s\) of sim/);
});

it('simulate validates its flags before starting a fleet', async () => {
  const never = jest.fn();
  const bad = await otactl(['simulate', '--product', 'sim', '--devices', '5', '--fail-rate', '1.5'], { simulate: never as never });
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/--fail-rate must be between 0 and 1/);
  const fota = await otactl(['simulate', '--product', 'sim', '--devices', '5', '--fail-rate', '0', '--protocol', 'esp32fota'], { simulate: never as never });
  expect(fota.code).toBe(2);
  expect(fota.err).toMatch(/needs --firefly-path/);
  expect(never).not.toHaveBeenCalled();
});

it('simulate passes the device endpoint and options through and exits 1 when devices hit errors', async () => {
  const fake = jest.fn(async (o: any) => {
    o.onProgress?.({ checks: 1, offers: 0, downloads: 0, verified: 0, succeeded: 0, failed: 0, noUpdate: 0, errors: 1 });
    return { checks: 4, offers: 0, downloads: 0, verified: 0, succeeded: 0, failed: 0, noUpdate: 2, errors: 2 };
  });
  const r = await otactl(
    [
      'simulate',
      '--product',
      'sim',
      '--devices',
      '4',
      '--fail-rate',
      '0.1',
      '--protocol',
      'arduino',
      '--rounds',
      '2',
      '--device-endpoint',
      'http://127.0.0.1:1234/',
    ],
    { simulate: fake as never },
  );
  expect(r.code).toBe(1);
  expect(fake).toHaveBeenCalledWith(
    expect.objectContaining({ apiUrl: 'http://127.0.0.1:1234', product: 'sim', devices: 4, failRate: 0.1, protocol: 'arduino', rounds: 2 }),
  );
  expect(r.out).toMatch(/^errors\s+2$/m);
});
