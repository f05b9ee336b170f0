/**
 * otactl without a clone: `npm run build:cli` (bin/build-cli.mjs) makes one file that needs only
 * Node. It is copied to a temp directory outside the checkout — no node_modules anywhere above
 * it — and run with `node`: --version, --help, a usage error, a SigV4-signed request (the bundled
 * AWS SDK signer and credential chain), and a real publish (bundled S3 client) to a local platform.
 */
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pkg from '../../package.json';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';

jest.setTimeout(120_000);
const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'otactl-standalone-'));
const bundle = join(dir, 'otactl.cjs');

let t: TestPlatform;
beforeAll(async () => {
  const built = join(mkdtempSync(join(tmpdir(), 'otactl-build-')), 'otactl.cjs');
  execFileSync(process.execPath, [join(root, 'bin', 'build-cli.mjs'), '--outfile', built], { cwd: root, stdio: 'pipe' });
  copyFileSync(built, bundle);
  rmSync(dirname(built), { recursive: true, force: true });
  t = await startTestPlatform();
  await createProduct(t.api, 'solo', { chip: 'esp32s3', firmware_type: 'Solo' });
});
afterAll(async () => {
  await t?.platform.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Nothing the bundle could resolve a package from: no node_modules above it, no NODE_PATH, no OTA_/AWS_ settings. */
const cleanEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: dirname(process.execPath),
  HOME: join(dir, 'home'),
  ...extra,
});

function otactl(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bundle, ...args], { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

it('the bundle lives outside the checkout, with no node_modules to lean on', () => {
  expect(dir.startsWith(root)).toBe(false);
  for (let d = dir; ; d = dirname(d)) {
    expect(existsSync(join(d, 'node_modules'))).toBe(false);
    if (dirname(d) === d) break;
  }
  expect(readFileSync(bundle, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
});

it('--version, --help and a usage error', async () => {
  expect(await otactl(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  const help = await otactl(['--help']);
  expect(help.code).toBe(0);
  for (const cmd of ['publish', 'product', 'firmware', 'deploy', 'device', 'simulate', 'sample-image', 'context', 'completion']) {
    expect(help.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
  }
  const usage = await otactl(['deploy', 'list']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/required option '--product <id>' not specified/);
});

it('signs a request for a cloud endpoint with SigV4 from the environment credentials', async () => {
  let seen: Record<string, string | string[] | undefined> = {};
  const server = createServer((req, res) => {
    seen = req.headers;
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { code: 'product_not_found', message: 'Product p does not exist' } }));
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await otactl(
      ['product', 'get', 'p', '--sign', '--region', 'eu-west-1'],
      cleanEnv({ OTA_API_URL: url, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' }),
    );
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: product_not_found: Product p does not exist\n' });
    expect(String(seen.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/,
    );
  } finally {
    await new Promise((r) => server.close(r));
  }
});

it('writes a sample image and publishes it to a local platform found through OTA_PORT', async () => {
  const port = new URL(t.platform.apiUrl).port;
  const s3Port = new URL(t.platform.s3Endpoint).port;
  const env = cleanEnv({ OTA_PORT: port, OTA_S3_PORT: s3Port });
  const img = await otactl(['sample-image', '--version', '1.0.0', '--chip', 'esp32s3', '-o', 'build/app.bin'], env);
  expect(img.code).toBe(0);
  expect(img.stdout).toContain(join(dir, 'build', 'app.bin'));
  const pub = await otactl(['publish', 'build', '--product', 'solo', '--version', '1.0.0', '--release'], env);
  expect(pub).toMatchObject({ code: 0, stdout: '1\n' });
  const list = await otactl(['firmware', 'list', '--product', 'solo', '--json'], env);
  expect(list.code).toBe(0);
  expect(JSON.parse(list.stdout).items).toEqual([expect.objectContaining({ build_number: 1, version: '1.0.0', state: 'RELEASED' })]);
});
