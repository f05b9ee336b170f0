/**
 * The walking skeleton, end to end over real HTTP against the local platform:
 * publish → release → deploy → check → download through the signed URL → verify sha256 and
 * CRC-32 → report success → the next check says no update; a tampered URL is refused.
 */
import { createHash } from 'node:crypto';
import { Crc32 } from '../../lambdas/core/checksum';
import { MAX_REQUEST_LINE_BYTES, requestLineBytes } from '../../lambdas/core/download-url';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { readResult, uploadRelease } from '../support/release';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.platform.stop();
});

const DEVICE = { product: 'ctrl', device_id: '24:6f:28:aa:bb:cc', version: '1.0.0', hw: { board: 'devkitc', chip: 'esp32' } };

it('delivers one firmware from CI upload to a device and back', async () => {
  const { api, platform } = t;
  await createProduct(api, 'ctrl', { firmware_type: 'FireFly Controller' });

  // 1. CI publishes a release folder: binaries first, manifest last.
  const image = buildEspImage({ chip: 'esp32', version: '1.2.0', fill: 7 });
  await uploadRelease(platform.s3, platform.buckets.ingest, {
    product: 'ctrl',
    version: '1.2.0',
    files: { 'Controller.ino.bin': image, 'Controller.ino.bootloader.bin': Buffer.from('boot') },
  });
  await platform.ingest.idle();
  const result = await readResult(platform.s3, platform.buckets.ingest, 'ctrl', '1.2.0');
  expect(result).toMatchObject({ status: 'accepted', build_number: 1, state: 'DRAFT', excluded: ['Controller.ino.bootloader.bin'] });

  // 2. A device checks before anything is released: no update.
  let check = await api.post('/api/v1/ota/check/', DEVICE);
  expect(check.status).toBe(200);
  expect(check.body).toMatchObject({ status: 'no_update', update_available: false, update: false });

  // 3. The operator releases the build and deploys it to 100 %.
  expect((await api.post('/admin/v1/products/ctrl/firmware/1/release')).body.state).toBe('RELEASED');
  const dep = await api.post('/admin/v1/products/ctrl/deployments', { build: 1, percentage: 100 });
  expect(dep.status).toBe(201);

  // 4. The device checks and gets a signed URL.
  check = await api.post('/api/v1/ota/check', DEVICE);
  expect(check.body).toMatchObject({ status: 'update_available', update_available: true, update: true, build_number: 1, version: '1.2.0' });
  const offer = check.body;
  expect(offer.url.startsWith(platform.cdnUrl)).toBe(true);
  expect(offer.deployment_id).toBe(dep.body.deployment_id);
  // ESP-IDF's HTTP client fits `GET <path>?<query> HTTP/1.1` in 512 bytes.
  expect(requestLineBytes(offer.url)).toBeLessThanOrEqual(MAX_REQUEST_LINE_BYTES);

  // 5. It downloads the bytes from the edge (never through the API) and verifies them.
  const download = await fetch(offer.url);
  expect(download.status).toBe(200);
  expect(Number(download.headers.get('content-length'))).toBe(image.length);
  const bytes = Buffer.from(await download.arrayBuffer());
  expect(bytes.equals(image)).toBe(true);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(offer.sha256);
  expect(new Crc32().update(bytes).hex()).toBe(offer.crc32);
  expect(offer.checksum).toBe(`sha256:${offer.sha256}`);
  expect(offer.size).toBe(image.length);

  // A tampered URL is refused.
  const tampered = offer.url.replace('/ctrl/1/app.bin', '/ctrl/1/ui.bin');
  expect((await fetch(tampered)).status).toBe(403);
  expect((await fetch(offer.url.replace(/Signature=[^&]+/, 'Signature=AAAA'))).status).toBe(403);

  // 6. It reports success; the counters move; the next check says no update.
  const report = await api.post('/api/v1/ota/status/', { product: 'ctrl', device_id: DEVICE.device_id, build_number: 1, status: 'success' });
  expect(report.status).toBe(200);
  expect(report.body).toMatchObject({ ok: true, result: 'recorded', deployment_id: offer.deployment_id });
  const after = await api.post('/api/v1/ota/check/', { ...DEVICE, version: '1.2.0' });
  expect(after.body).toMatchObject({ status: 'no_update', update_available: false });
  const counts = (await api.get(`/admin/v1/products/ctrl/deployments/${offer.deployment_id}`)).body.counts;
  expect(counts).toMatchObject({ offered: 1, succeeded: 1, failed: 0 });
});
