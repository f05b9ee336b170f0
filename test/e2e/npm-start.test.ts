/**
 * `npm start` as a team runs it: a separate process (bundled by esbuild, as the CDK bundles the
 * Lambdas), talked to over real HTTP. Proves the bundle starts, persists under OTA_DATA_DIR and
 * serves operator, ingest, device and CDN traffic; then that its state survives a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Client } from '../../lambdas/shared/s3';
import { loadOrCreateS3Credentials } from '../../lib/local/keys';
import { buildEspImage } from '../fixtures/esp-image';
import { httpClient } from '../support/http-client';
import { readResult, uploadRelease } from '../support/release';

jest.setTimeout(60_000);
const root = join(__dirname, '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'ota-npm-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Ready {
  apiUrl: string;
  cdnUrl: string;
  s3Endpoint: string;
}

async function start(): Promise<{ child: ChildProcess; ready: Ready; output: () => string }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'run.mjs'), 'local'], {
    cwd: root,
    env: { ...process.env, OTA_DATA_DIR: dataDir, OTA_PORT: '0', OTA_CDN_PORT: '0', OTA_S3_PORT: '0', OTA_SILENT: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no OTA_READY within 45 s:\n${out}`)), 45_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('OTA_READY '));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('OTA_READY '.length)) as Ready);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  return { child, ready, output: () => out };
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

it('runs the platform in its own process, prints what is where, and keeps state across restarts', async () => {
  const first = await start();
  try {
    expect(first.output()).toContain(first.ready.apiUrl);
    expect(first.output()).toMatch(/manifest\.json/); // the printed "publish a first firmware" recipe
    const api = httpClient(first.ready.apiUrl);
    expect((await api.put('/admin/v1/products/proc', { chip: 'esp32', security_mode: 'open', firmware_type: 'Proc' })).status).toBeLessThan(300);

    // The local S3 accepts only the pair generated for this data dir.
    const s3 = createS3Client(first.ready.s3Endpoint, loadOrCreateS3Credentials(join(dataDir, 'keys')));
    await uploadRelease(s3, 'ota-ingest', {
      product: 'proc',
      version: '1.0.0',
      files: { 'fw.bin': buildEspImage({ version: '1.0.0' }) },
      manifest: { release: true },
    });
    let result: any;
    for (let i = 0; i < 100 && !result; i++) {
      result = await readResult(s3, 'ota-ingest', 'proc', '1.0.0').catch(() => undefined);
      if (!result) await new Promise((r) => setTimeout(r, 100));
    }
    s3.destroy();
    expect(result).toMatchObject({ status: 'accepted', build_number: 1 });

    await api.post('/admin/v1/products/proc/deployments', { build: 1, percentage: 100 });
    const offer = await api.post('/api/v1/ota/check', { product: 'proc', device_id: 'AA:BB:CC:DD:EE:01', version: '0.1.0' });
    expect(offer.body).toMatchObject({ status: 'update_available', build_number: 1 });
    expect(offer.body.url.startsWith(first.ready.cdnUrl)).toBe(true);
    expect((await fetch(offer.body.url, { method: 'HEAD' })).status).toBe(200);
  } finally {
    expect(await stop(first.child)).toBe(0);
  }

  // Same data dir: the product, the build and the device are still there; the signing key too.
  const second = await start();
  try {
    const api = httpClient(second.ready.apiUrl);
    expect((await api.get('/admin/v1/products/proc/firmware/1')).body).toMatchObject({ version: '1.0.0', state: 'RELEASED' });
    const offer = await api.post('/api/v1/ota/check', { product: 'proc', device_id: 'AA:BB:CC:DD:EE:01', version: '0.1.0' });
    expect(offer.body.status).toBe('update_available');
    expect((await fetch(offer.body.url, { method: 'HEAD' })).status).toBe(200);
  } finally {
    expect(await stop(second.child)).toBe(0);
  }
});
