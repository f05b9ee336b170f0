/**
 * The entry point as an operator runs it: `node bin/otactl.mjs …` in its own process (bundled by
 * esbuild into node_modules/.cache/otactl), talking to the local platform over HTTP.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';

jest.setTimeout(90_000);
const root = join(__dirname, '..', '..');

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'binp', { chip: 'esp32c3', firmware_type: 'Bin Board' });
});
afterAll(async () => {
  await t?.platform.stop();
});

function otactl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // No OTA_* / AWS_* from the test process: the flags must be enough.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTA_') && !k.startsWith('AWS_')));
    execFile(process.execPath, [join(root, 'bin', 'otactl.mjs'), ...args], { cwd: root, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

it('node bin/otactl.mjs --help lists the command groups and exits 0', async () => {
  const r = await otactl(['--help']);
  expect(r.code).toBe(0);
  for (const cmd of ['publish', 'product', 'firmware', 'deploy', 'device', 'simulate']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
});

it('node bin/otactl.mjs product get <p> --json --endpoint <apiUrl> prints the product as JSON', async () => {
  const r = await otactl(['product', 'get', 'binp', '--json', '--endpoint', t.platform.apiUrl]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ product_id: 'binp', chip: 'esp32c3', firmware_type: 'Bin Board', security_mode: 'open' });
});

it('an API error in the built CLI is code + message on stderr and exit status 1', async () => {
  const r = await otactl(['deploy', 'status', 'dep-none', '--product', 'binp', '--endpoint', t.platform.apiUrl]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^error: deployment_not_found: /);
});
