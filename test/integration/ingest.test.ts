/**
 * The upload function against real peers (dynalite + s3rver): what it accepts, every reason it
 * rejects for (objects kept), and idempotency under duplicated events and re-uploads.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { Crc32 } from '../../lambdas/core/checksum';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease, readResult, uploadRelease } from '../support/release';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'ing', { chip: 'esp32s3', firmware_type: 'Ingest Board' });
});
afterAll(async () => {
  await t?.platform.stop();
});

const image = (version: string, fill = 1, extra: Parameters<typeof buildEspImage>[0] = {}) =>
  buildEspImage({ chip: 'esp32s3', version, fill, ...extra });

const ingestKeys = async (prefix: string) =>
  ((await t.platform.s3.send(new ListObjectsV2Command({ Bucket: t.platform.buckets.ingest, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);

const manifestEvent = (key: string): S3Event =>
  ({
    Records: [
      {
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: t.platform.buckets.ingest }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 1, sequencer: '00' } },
      },
    ],
  }) as unknown as S3Event;

describe('accepts', () => {
  it('records app + ui with size, sha256, crc32 and the app descriptor, and copies them under immutable keys', async () => {
    const app = image('1.0.0', 11, { projectName: 'ingest-app', idfVersion: 'v5.3.1' });
    const ui = Buffer.from('littlefs image bytes');
    const result = await publishRelease(t.platform, {
      product: 'ing',
      version: '1.0.0',
      files: { 'app.ino.bin': app, 'ui.bin': ui, 'config.bin': Buffer.from('cfg'), 'app.ino.partitions.bin': Buffer.from('pt') },
      manifest: { notes: 'first', files: [{ name: 'app.ino.bin', sha256: createHash('sha256').update(app).digest('hex').toUpperCase() }, { name: 'ui.bin' }, { name: 'config.bin' }, { name: 'app.ino.partitions.bin' }] },
    });
    expect(result).toMatchObject({ status: 'accepted', build_number: expect.any(Number), state: 'DRAFT' });
    expect(result.excluded.sort()).toEqual(['app.ino.partitions.bin', 'config.bin']);
    const appFile = result.files.find((f: any) => f.role === 'app');
    expect(appFile).toEqual({
      role: 'app',
      name: 'app.ino.bin',
      size: app.length,
      sha256: createHash('sha256').update(app).digest('hex'),
      crc32: new Crc32().update(app).hex(),
    });

    const fw = (await t.api.get(`/admin/v1/products/ing/firmware/${result.build_number}`)).body;
    expect(fw).toMatchObject({ version: '1.0.0', state: 'DRAFT', firmware_type: 'Ingest Board', notes: 'first' });
    expect(JSON.stringify(fw)).toContain('ingest-app');
    expect(JSON.stringify(fw)).toContain('v5.3.1');

    const copied = await t.platform.s3.send(new GetObjectCommand({ Bucket: t.platform.buckets.firmware, Key: `ing/${result.build_number}/app.bin` }));
    expect(Buffer.from(await copied.Body!.transformToByteArray()).equals(app)).toBe(true);
    await expect(t.platform.s3.send(new HeadObjectCommand({ Bucket: t.platform.buckets.firmware, Key: `ing/${result.build_number}/ui.bin` }))).resolves.toBeDefined();
  });

  it('records what the image says about itself: secure_version and the chip revision range of the extended header', async () => {
    const app = image('1.0.2', 14, { projectName: 'rev-aware', idfVersion: 'v5.4', secureVersion: 3, minChipRev: 1, minChipRevFull: 101, maxChipRevFull: 399 });
    const result = await publishRelease(t.platform, { product: 'ing', version: '1.0.2', files: { 'fw.bin': app } });
    expect(result).toMatchObject({
      status: 'accepted',
      app: { project_name: 'rev-aware', version: '1.0.2', idf_version: 'v5.4', secure_version: 3, min_chip_rev_full: 101, max_chip_rev_full: 399 },
    });
    const fw = (await t.api.get(`/admin/v1/products/ing/firmware/${result.build_number}`)).body;
    expect(fw.app).toEqual({
      project_name: 'rev-aware',
      version: '1.0.2',
      idf_version: 'v5.4',
      chip_id: 0x0009,
      compile_date: 'Nov 23 2026',
      compile_time: '12:00:00',
      secure_version: 3,
      min_chip_rev: 1,
      min_chip_rev_full: 101,
      max_chip_rev_full: 399,
    });
  });

  it('publishes directly as RELEASED when the manifest says release: true', async () => {
    const result = await publishRelease(t.platform, { product: 'ing', version: '1.0.1', files: { 'fw.bin': image('1.0.1', 12) }, manifest: { release: true } });
    expect(result).toMatchObject({ status: 'accepted', state: 'RELEASED' });
  });

  it('accepts calendar versions', async () => {
    const result = await publishRelease(t.platform, { product: 'ing', version: '2026.03.001', files: { 'fw.bin': image('2026.03.001', 13) } });
    expect(result.status).toBe('accepted');
  });
});

describe('rejects with a recorded reason and keeps the objects', () => {
  const cases: [string, string, () => Parameters<typeof publishRelease>[1]][] = [
    ['chip_mismatch', 'an image built for another chip', () => ({ product: 'ing', version: '3.0.0', files: { 'fw.bin': buildEspImage({ chip: 'esp32c3', version: '3.0.0' }) } })],
    ['version_mismatch', 'an app descriptor version that differs from the manifest', () => ({ product: 'ing', version: '3.0.1', files: { 'fw.bin': image('3.0.2') } })],
    ['bad_image_magic', 'a file that is not an ESP image', () => ({ product: 'ing', version: '3.0.3', files: { 'fw.bin': image('3.0.3', 1, { magic: 0x7f }) } })],
    ['missing_file', 'a listed file that was never uploaded', () => ({ product: 'ing', version: '3.0.4', files: { 'fw.bin': image('3.0.4') }, manifest: { files: [{ name: 'fw.bin' }, { name: 'ui.bin' }] } })],
    ['unknown_product', 'a product nobody created', () => ({ product: 'ghost', version: '1.0.0', files: { 'fw.bin': buildEspImage({ version: '1.0.0' }) } })],
    ['invalid_manifest', 'an unknown manifest field', () => ({ product: 'ing', version: '3.0.5', files: { 'fw.bin': image('3.0.5') }, manifest: { colour: 'blue' } })],
    ['invalid_json', 'a manifest that is not JSON', () => ({ product: 'ing', version: '3.0.6', files: { 'fw.bin': image('3.0.6') }, manifest: '{"product": "ing",' })],
    ['sha256_mismatch', 'bytes that do not match the manifest sha256', () => ({ product: 'ing', version: '3.0.7', files: { 'fw.bin': image('3.0.7') }, manifest: { files: [{ name: 'fw.bin', sha256: 'a'.repeat(64) }] } })],
    ['path_mismatch', 'a manifest uploaded under another version folder', () => ({ product: 'ing', version: '3.0.8', files: { 'fw.bin': image('3.0.8') }, manifest: JSON.stringify({ product: 'ing', version: '3.0.9', files: [{ name: 'fw.bin' }] }) })],
    ['multiple_app_images', 'two application binaries', () => ({ product: 'ing', version: '3.1.0', files: { 'a.bin': image('3.1.0'), 'b.bin': image('3.1.0', 2) } })],
    ['unsupported_file', 'a file that is not a .bin', () => ({ product: 'ing', version: '3.1.1', files: { 'fw.bin': image('3.1.1'), 'readme.txt': Buffer.from('hi') } })],
  ];
  it.each(cases)('%s: %s', async (code, _why, folder) => {
    const f = folder();
    const result = await publishRelease(t.platform, f);
    expect(result.status).toBe('rejected');
    expect(result.code).toBe(code);
    expect(typeof result.reason).toBe('string');
    expect(result.reason.length).toBeGreaterThan(5);
    // Nothing lost: everything CI uploaded is still there, next to result.json.
    const keys = await ingestKeys(`${f.product}/${f.version}/`);
    for (const name of Object.keys(f.files)) expect(keys).toContain(`${f.product}/${f.version}/${name}`);
    expect(keys).toContain(`${f.product}/${f.version}/manifest.json`);
  });

  it('creates no firmware record and consumes no version for a rejected upload', async () => {
    const before = (await t.api.get('/admin/v1/products/ing/firmware')).body.items.length;
    await publishRelease(t.platform, { product: 'ing', version: '4.0.0', files: { 'fw.bin': image('4.0.1') } });
    expect((await t.api.get('/admin/v1/products/ing/firmware')).body.items.length).toBe(before);
    // The version is still free: a corrected upload of it is accepted.
    const fixed = await publishRelease(t.platform, { product: 'ing', version: '4.0.0', files: { 'fw.bin': image('4.0.0') } });
    expect(fixed.status).toBe('accepted');
  });
});

describe('idempotency', () => {
  it('the same manifest event delivered twice yields one record and one build number', async () => {
    const { handler } = await import('../../lambdas/handlers/upload');
    const key = await uploadRelease(t.platform.s3, t.platform.buckets.ingest, { product: 'ing', version: '5.0.0', files: { 'fw.bin': image('5.0.0', 50) } });
    await t.platform.ingest.idle();
    const first = await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '5.0.0');
    await handler(manifestEvent(key), {} as never);
    await Promise.all([handler(manifestEvent(key), {} as never), handler(manifestEvent(key), {} as never)]);
    const again = await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '5.0.0');
    expect(again).toMatchObject({ status: 'accepted', build_number: first.build_number, duplicate: true });
    const items = (await t.api.get('/admin/v1/products/ing/firmware')).body.items.filter((f: any) => f.version === '5.0.0');
    expect(items).toHaveLength(1);
  });

  it('a second upload of the same version with identical bytes gets the same build', async () => {
    const folder = { product: 'ing', version: '5.1.0', files: { 'fw.bin': image('5.1.0', 51) } };
    const first = await publishRelease(t.platform, folder);
    const second = await publishRelease(t.platform, folder);
    expect(second).toMatchObject({ status: 'accepted', build_number: first.build_number, duplicate: true });
  });

  it('a second upload of the same version with different bytes is rejected as version_exists; the first wins', async () => {
    const first = await publishRelease(t.platform, { product: 'ing', version: '5.2.0', files: { 'fw.bin': image('5.2.0', 52) } });
    const second = await publishRelease(t.platform, { product: 'ing', version: '5.2.0', files: { 'fw.bin': image('5.2.0', 53) } });
    expect(second).toMatchObject({ status: 'rejected', code: 'version_exists' });
    const fw = (await t.api.get(`/admin/v1/products/ing/firmware/${first.build_number}`)).body;
    const app = fw.files.find((f: any) => f.role === 'app');
    expect(app.sha256).toBe(createHash('sha256').update(image('5.2.0', 52)).digest('hex'));
  });

  it('build numbers are strictly monotonic per product and never reused', async () => {
    const builds: number[] = [];
    for (const v of ['6.0.0', '6.0.1', '6.0.2']) builds.push((await publishRelease(t.platform, { product: 'ing', version: v, files: { 'fw.bin': image(v, 60) } })).build_number);
    expect(builds[1]).toBeGreaterThan(builds[0]!);
    expect(builds[2]).toBeGreaterThan(builds[1]!);
    const all = (await t.api.get('/admin/v1/products/ing/firmware')).body.items.map((f: any) => f.build_number ?? f.build);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('product max_image_size', () => {
  it('is settable through the product PUT, shown by the presenter, and enforced by the ingest', async () => {
    const shown = await createProduct(t.api, 'small', { chip: 'esp32s3', max_image_size: 128 * 1024 });
    expect(shown.max_image_size).toBe(128 * 1024);
    expect((await t.api.get('/admin/v1/products/small')).body.max_image_size).toBe(128 * 1024);
    const big = await publishRelease(t.platform, { product: 'small', version: '1.0.0', files: { 'fw.bin': image('1.0.0', 80, { size: 200 * 1024 }) } });
    expect(big).toMatchObject({ status: 'rejected', code: 'image_too_large' });
    const fits = await publishRelease(t.platform, { product: 'small', version: '1.0.1', files: { 'fw.bin': image('1.0.1', 81, { size: 100 * 1024 }) } });
    expect(fits.status).toBe('accepted');
    // Back to the default when a PUT leaves it out; the default is shown, not null.
    expect((await createProduct(t.api, 'small', { chip: 'esp32s3' })).max_image_size).toBe(0x640000);
  });

  it('refuses values outside 64 KiB .. 32 MiB and non-integers', async () => {
    for (const v of [1024, 64 * 1024 - 1, 32 * 1024 * 1024 + 1, 100000.5, '1000000']) {
      const r = await t.api.put('/admin/v1/products/small', { chip: 'esp32s3', security_mode: 'open', max_image_size: v });
      expect(r.status).toBe(400);
    }
  });
});

describe('version identity', () => {
  it('v5.3.0 after 5.3.0 is version_exists, not a second build', async () => {
    const first = await publishRelease(t.platform, { product: 'ing', version: '5.3.0', files: { 'fw.bin': image('5.3.0', 530) } });
    expect(first.status).toBe('accepted');
    const second = await publishRelease(t.platform, { product: 'ing', version: 'v5.3.0', files: { 'fw.bin': image('v5.3.0', 531) } });
    expect(second).toMatchObject({ status: 'rejected', code: 'version_exists' });
  });
});

describe('rejects images a bootloader would refuse (objects kept)', () => {
  const cases: [string, () => Buffer, string][] = [
    ['the first 300 B of a 32 KB image', () => image('7.0.0', 70, { size: 32 * 1024 }).subarray(0, 300), 'truncated_image'],
    ['half an image', () => image('7.0.1', 71, { size: 32 * 1024 }).subarray(0, 16 * 1024), 'truncated_image'],
    ['a header claiming 200 segments', () => image('7.0.2', 72, { segmentCount: 200 }), 'too_many_segments'],
    [
      '4 bytes changed after the hash was appended',
      () => {
        const b = image('7.0.3', 73);
        for (const at of [4000, 4001, 4002, 4003]) b[at] ^= 0x5a;
        return b;
      },
      'bad_image_hash',
    ],
    ['an 8 MB image', () => image('7.0.4', 74, { size: 8 * 1024 * 1024 }), 'image_too_large'],
  ];
  it.each(cases)('%s', async (_, bytes, code) => {
    const version = `7.0.${cases.findIndex((c) => c[2] === code && c[1] === bytes)}`;
    const result = await publishRelease(t.platform, { product: 'ing', version, files: { 'fw.bin': bytes() } });
    expect(result).toMatchObject({ status: 'rejected', code });
    expect(await ingestKeys(`ing/${version}/`)).toEqual(expect.arrayContaining([`ing/${version}/fw.bin`, `ing/${version}/manifest.json`]));
  });
});
