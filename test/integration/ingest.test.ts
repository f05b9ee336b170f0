/**
 * The upload function against real peers (dynalite + s3rver): what it accepts, every reason it
 * rejects for (objects kept), and idempotency under duplicated events and re-uploads.
 */
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { Crc32 } from '../../lambdas/core/checksum';
import { IngestService, type IngestServiceDeps } from '../../lambdas/shared/ingest-service';
import { createLogger } from '../../lambdas/shared/logger';
import type { CatalogStore } from '../../lambdas/shared/store/catalog-store';
import { catalogStore, signingKeyStore } from '../../lambdas/shared/wiring';
import { encodeS3EventKey } from '../../lib/local/ingest-events';
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

const image = (version: string, fill = 1, extra: Parameters<typeof buildEspImage>[0] = {}) => buildEspImage({ chip: 'esp32s3', version, fill, ...extra });

const ingestKeys = async (prefix: string) =>
  ((await t.platform.s3.send(new ListObjectsV2Command({ Bucket: t.platform.buckets.ingest, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);

const DIRECT = 'ota-ingest-direct';

/** An IngestService on the platform's peers (the upload handler's, with injectable parts). */
const service = (over: Partial<IngestServiceDeps> = {}) =>
  new IngestService({
    s3: t.platform.s3,
    catalog: catalogStore(),
    ingestBucket: t.platform.buckets.ingest,
    firmwareBucket: t.platform.buckets.firmware,
    logger: createLogger('ingest-test'),
    keys: signingKeyStore(),
    ...over,
  });

const put = (key: string, body: Buffer | string) => t.platform.s3.send(new PutObjectCommand({ Bucket: t.platform.buckets.ingest, Key: key, Body: body }));
const manifestOf = (product: string, version: string, names: string[]) => JSON.stringify({ product, version, files: names.map((name) => ({ name })) });
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const storedSha256 = async (key: string) =>
  sha256(Buffer.from(await (await t.platform.s3.send(new GetObjectCommand({ Bucket: t.platform.buckets.firmware, Key: key }))).Body!.transformToByteArray()));
const buildsOf = async (product: string, version?: string) =>
  ((await t.api.get(`/admin/v1/products/${product}/firmware?limit=200`)).body.items as any[]).filter((f) => version === undefined || f.version === version);

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
      manifest: {
        notes: 'first',
        files: [
          { name: 'app.ino.bin', sha256: createHash('sha256').update(app).digest('hex').toUpperCase() },
          { name: 'ui.bin' },
          { name: 'config.bin' },
          { name: 'app.ino.partitions.bin' },
        ],
      },
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
    await expect(
      t.platform.s3.send(new HeadObjectCommand({ Bucket: t.platform.buckets.firmware, Key: `ing/${result.build_number}/ui.bin` })),
    ).resolves.toBeDefined();
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
    [
      'chip_mismatch',
      'an image built for another chip',
      () => ({ product: 'ing', version: '3.0.0', files: { 'fw.bin': buildEspImage({ chip: 'esp32c3', version: '3.0.0' }) } }),
    ],
    [
      'version_mismatch',
      'an app descriptor version that differs from the manifest',
      () => ({ product: 'ing', version: '3.0.1', files: { 'fw.bin': image('3.0.2') } }),
    ],
    [
      'bad_image_magic',
      'a file that is not an ESP image',
      () => ({ product: 'ing', version: '3.0.3', files: { 'fw.bin': image('3.0.3', 1, { magic: 0x7f }) } }),
    ],
    ['unknown_product', 'a product nobody created', () => ({ product: 'ghost', version: '1.0.0', files: { 'fw.bin': buildEspImage({ version: '1.0.0' }) } })],
    [
      'invalid_manifest',
      'an unknown manifest field',
      () => ({ product: 'ing', version: '3.0.5', files: { 'fw.bin': image('3.0.5') }, manifest: { colour: 'blue' } }),
    ],
    [
      'invalid_json',
      'a manifest that is not JSON',
      () => ({ product: 'ing', version: '3.0.6', files: { 'fw.bin': image('3.0.6') }, manifest: '{"product": "ing",' }),
    ],
    [
      'sha256_mismatch',
      'bytes that do not match the manifest sha256',
      () => ({ product: 'ing', version: '3.0.7', files: { 'fw.bin': image('3.0.7') }, manifest: { files: [{ name: 'fw.bin', sha256: 'a'.repeat(64) }] } }),
    ],
    [
      'path_mismatch',
      'a manifest uploaded under another version folder',
      () => ({
        product: 'ing',
        version: '3.0.8',
        files: { 'fw.bin': image('3.0.8') },
        manifest: JSON.stringify({ product: 'ing', version: '3.0.9', files: [{ name: 'fw.bin' }] }),
      }),
    ],
    [
      'multiple_app_images',
      'two application binaries',
      () => ({ product: 'ing', version: '3.1.0', files: { 'a.bin': image('3.1.0'), 'b.bin': image('3.1.0', 2) } }),
    ],
    [
      'unsupported_file',
      'a file that is not a .bin',
      () => ({ product: 'ing', version: '3.1.1', files: { 'fw.bin': image('3.1.1'), 'readme.txt': Buffer.from('hi') } }),
    ],
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
    for (const v of ['6.0.0', '6.0.1', '6.0.2'])
      builds.push((await publishRelease(t.platform, { product: 'ing', version: v, files: { 'fw.bin': image(v, 60) } })).build_number);
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

describe('event keys decoded exactly as S3 encodes them', () => {
  it('the local emitter encodes as S3 does: a space as +, a literal + as %2B', () => {
    expect(encodeS3EventKey('ing/1.3.1+5/my fw.bin')).toBe('ing/1.3.1%2B5/my+fw.bin');
  });

  it('a version with build metadata (8.1.0+5) is accepted, with its result.json, no dead letter and no burned build number', async () => {
    const dead = t.platform.ingest.deadLetters.length;
    const app = image('8.1.0+5', 81);
    const result = await publishRelease(t.platform, { product: 'ing', version: '8.1.0+5', files: { 'fw.bin': app } });
    expect(result).toMatchObject({ status: 'accepted', version: '8.1.0+5' });
    expect(t.platform.ingest.deadLetters.length).toBe(dead);
    expect(await storedSha256(`ing/${result.build_number}/app.bin`)).toBe(sha256(app));
    const next = await publishRelease(t.platform, { product: 'ing', version: '8.1.1', files: { 'fw.bin': image('8.1.1', 82) } });
    expect(next.build_number).toBe(result.build_number + 1);
    // The handler decodes S3's own encoding of that key (a duplicate delivery: same build).
    const { handler } = await import('../../lambdas/handlers/upload');
    await handler(manifestEvent('ing/8.1.0+5/manifest.json'), {} as never);
    expect(await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '8.1.0+5')).toMatchObject({
      status: 'accepted',
      build_number: result.build_number,
      duplicate: true,
    });
  });

  it('a manifest under a key with a space gets its verdict beside it (path_mismatch), from the emitter and from an S3-encoded event', async () => {
    const key = 'ing/9.9.9 copy/manifest.json';
    await put('ing/9.9.9 copy/fw.bin', image('9.9.9', 99));
    await put(key, manifestOf('ing', '9.9.9', ['fw.bin']));
    await t.platform.ingest.idle();
    const verdict = await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '9.9.9 copy');
    expect(verdict).toMatchObject({ status: 'rejected', code: 'path_mismatch' });
    const { handler } = await import('../../lambdas/handlers/upload');
    await t.platform.s3.send(new PutObjectCommand({ Bucket: t.platform.buckets.ingest, Key: 'ing/9.9.9 copy/result.json', Body: '{}' }));
    await handler(
      {
        Records: [{ ...manifestEvent(key).Records[0]!, s3: { bucket: { name: t.platform.buckets.ingest }, object: { key: 'ing/9.9.9+copy/manifest.json' } } }],
      } as never,
      {} as never,
    );
    expect(await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '9.9.9 copy')).toMatchObject({ status: 'rejected', code: 'path_mismatch' });
  });

  it('the local S3 copies a source key with + (CopySource URL-encoded, as S3 requires)', async () => {
    await put('ing/copy+test/a b.bin', Buffer.from('plus and space'));
    await t.platform.s3.send(
      new CopyObjectCommand({
        Bucket: t.platform.buckets.firmware,
        Key: 'scratch/copied.bin',
        CopySource: `${t.platform.buckets.ingest}/ing/${encodeURIComponent('copy+test')}/${encodeURIComponent('a b.bin')}`,
      }),
    );
    expect(await storedSha256('scratch/copied.bin')).toBe(sha256(Buffer.from('plus and space')));
  });
});

describe('every failure ends in a verdict; build numbers only for recorded builds', () => {
  it('an unexpected fault writes an error verdict (objects kept), hands the build number back, and the next good upload gets the next number', async () => {
    const last = (await publishRelease(t.platform, { product: 'ing', version: '10.0.0', files: { 'fw.bin': image('10.0.0', 100) } })).build_number;
    // A bucket the local notifications do not watch, so only the faulting service below ingests it.
    await t.platform.s3.send(new CreateBucketCommand({ Bucket: DIRECT })).catch(() => undefined);
    const real = catalogStore();
    const faulty = Object.create(real) as CatalogStore;
    faulty.putFirmware = async () => {
      throw Object.assign(new Error('simulated DynamoDB outage'), { name: 'InternalServerError' });
    };
    const key = await uploadRelease(t.platform.s3, DIRECT, { product: 'ing', version: '10.0.1', files: { 'fw.bin': image('10.0.1', 101) } });
    await expect(service({ catalog: faulty, ingestBucket: DIRECT }).ingest(key)).rejects.toThrow('simulated DynamoDB outage');
    expect(await readResult(t.platform.s3, DIRECT, 'ing', '10.0.1')).toMatchObject({
      status: 'error',
      code: 'internal_error',
      product: 'ing',
      version: '10.0.1',
      retrying: true,
      reason: expect.stringContaining('simulated DynamoDB outage'),
    });
    const kept = ((await t.platform.s3.send(new ListObjectsV2Command({ Bucket: DIRECT, Prefix: 'ing/10.0.1/' }))).Contents ?? []).map((o) => o.Key);
    expect(kept).toEqual(expect.arrayContaining(['ing/10.0.1/fw.bin', 'ing/10.0.1/manifest.json']));
    expect(await real.getVersionLock('ing', '10.0.1')).toBeUndefined();
    expect(await buildsOf('ing', '10.0.1')).toHaveLength(0);
    // The next good upload gets the next number: nothing burned.
    const next = await publishRelease(t.platform, { product: 'ing', version: '10.0.2', files: { 'fw.bin': image('10.0.2', 102) } });
    expect(next).toMatchObject({ status: 'accepted', build_number: last + 1 });
    // And the failed version itself is ingested when retried.
    expect(await service({ ingestBucket: DIRECT }).ingest(key)).toMatchObject({ status: 'accepted', build_number: last + 2, duplicate: false });
  });

  it('a version lock lost to a concurrent claim hands its number back', async () => {
    const before = (await publishRelease(t.platform, { product: 'ing', version: '10.1.0', files: { 'fw.bin': image('10.1.0', 110) } })).build_number;
    const key = await uploadRelease(t.platform.s3, t.platform.buckets.ingest, { product: 'ing', version: '10.1.1', files: { 'fw.bin': image('10.1.1', 111) } });
    const both = await Promise.all([service().ingest(key), service().ingest(key), service().ingest(key)]);
    await t.platform.ingest.idle();
    expect(new Set(both.map((r) => (r.status === 'accepted' ? r.build_number : -1)))).toEqual(new Set([before + 1]));
    const next = await publishRelease(t.platform, { product: 'ing', version: '10.1.2', files: { 'fw.bin': image('10.1.2', 112) } });
    expect(next.build_number).toBe(before + 2);
  });
});

describe('CI uploads in any order', () => {
  it('a manifest that lands before its binaries is pending (with what is missing) and accepted when they land', async () => {
    const app = image('11.0.0', 120);
    await put('ing/11.0.0/manifest.json', manifestOf('ing', '11.0.0', ['fw.bin', 'ui.bin']));
    await t.platform.ingest.idle();
    const pending = await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '11.0.0');
    expect(pending).toMatchObject({ status: 'pending', code: 'waiting_for_files', missing: ['fw.bin', 'ui.bin'], deadline: expect.any(String) });
    expect(Date.parse(pending.deadline) - Date.now()).toBeGreaterThan(14 * 60 * 1000);
    await put('ing/11.0.0/fw.bin', app);
    await t.platform.ingest.idle();
    expect(await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '11.0.0')).toMatchObject({ status: 'pending', missing: ['ui.bin'] });
    await put('ing/11.0.0/ui.bin', Buffer.from('littlefs'));
    await t.platform.ingest.idle();
    const accepted = await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '11.0.0');
    expect(accepted).toMatchObject({ status: 'accepted', version: '11.0.0' });
    expect(accepted.files.map((f: any) => f.name).sort()).toEqual(['fw.bin', 'ui.bin']);
    // A binary landing after the verdict does not re-judge an accepted release.
    await put('ing/11.0.0/fw.bin', image('11.0.0', 121));
    await t.platform.ingest.idle();
    expect(await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '11.0.0')).toMatchObject({
      status: 'accepted',
      build_number: accepted.build_number,
    });
  });

  it('a listed file still missing after the upload window is missing_file (injected clock); re-uploading the manifest starts a new window', async () => {
    const key = 'ing/11.1.0/manifest.json';
    await put('ing/11.1.0/fw.bin', image('11.1.0', 122));
    await put(key, manifestOf('ing', '11.1.0', ['fw.bin', 'ui.bin']));
    await t.platform.ingest.idle();
    expect(await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '11.1.0')).toMatchObject({ status: 'pending', missing: ['ui.bin'] });
    const later = service({ now: () => new Date(Date.now() + 15 * 60 * 1000 + 5000) });
    const judged = await later.ingest(key);
    expect(judged).toMatchObject({ status: 'rejected', code: 'missing_file', reason: expect.stringContaining('ui.bin') });
    expect(await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '11.1.0')).toMatchObject({ status: 'rejected', code: 'missing_file' });
    expect(await ingestKeys('ing/11.1.0/')).toEqual(expect.arrayContaining(['ing/11.1.0/fw.bin', 'ing/11.1.0/manifest.json']));
    // A configurable window: 0 judges at once.
    expect(await service({ uploadWindowMs: 0 }).ingest(key)).toMatchObject({ status: 'rejected', code: 'missing_file' });
    // The fix: upload the file and the manifest again.
    await put('ing/11.1.0/ui.bin', Buffer.from('ui'));
    await put(key, manifestOf('ing', '11.1.0', ['fw.bin', 'ui.bin']));
    await t.platform.ingest.idle();
    expect(await readResult(t.platform.s3, t.platform.buckets.ingest, 'ing', '11.1.0')).toMatchObject({ status: 'accepted' });
  });
});

describe('concurrent uploads of one version', () => {
  it('the local S3 enforces CopySourceIfMatch as S3 does (412 when the source ETag differs)', async () => {
    await put('ing/ifmatch/x.bin', Buffer.from('one'));
    const etag = (await t.platform.s3.send(new HeadObjectCommand({ Bucket: t.platform.buckets.ingest, Key: 'ing/ifmatch/x.bin' }))).ETag!;
    const copy = (ifMatch: string) =>
      t.platform.s3.send(
        new CopyObjectCommand({
          Bucket: t.platform.buckets.firmware,
          Key: 'scratch/ifmatch.bin',
          CopySource: `${t.platform.buckets.ingest}/ing/ifmatch/x.bin`,
          CopySourceIfMatch: ifMatch,
        }),
      );
    await expect(copy(etag)).resolves.toBeDefined();
    await put('ing/ifmatch/x.bin', Buffer.from('two'));
    await expect(copy(etag)).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
  });

  it('bytes replaced between scan and copy: no build records bytes other than those it hashed; the loser is rejected and leaves no lock', async () => {
    const baseline = (await publishRelease(t.platform, { product: 'ing', version: '12.0.0', files: { 'fw.bin': image('12.0.0', 130) } })).build_number;
    await t.platform.s3.send(new CreateBucketCommand({ Bucket: DIRECT })).catch(() => undefined);
    const a = image('12.0.1', 132);
    const b = image('12.0.1', 133);
    const key = await uploadRelease(t.platform.s3, DIRECT, { product: 'ing', version: '12.0.1', files: { 'fw.bin': a } });
    // CI re-uploads the binary with other bytes just as the ingest copies the ones it scanned.
    let raced = false;
    const racing = Object.create(t.platform.s3) as S3Client;
    racing.send = (async (cmd: any) => {
      if (cmd instanceof CopyObjectCommand && !raced) {
        raced = true;
        await t.platform.s3.send(new PutObjectCommand({ Bucket: DIRECT, Key: 'ing/12.0.1/fw.bin', Body: b }));
      }
      return t.platform.s3.send(cmd);
    }) as S3Client['send'];
    const lost = await service({ s3: racing, ingestBucket: DIRECT }).ingest(key);
    expect(lost).toMatchObject({ status: 'rejected', code: 'source_changed', reason: expect.stringContaining('fw.bin') });
    expect(await buildsOf('ing', '12.0.1')).toHaveLength(0);
    expect(await catalogStore().getVersionLock('ing', '12.0.1')).toBeUndefined();
    // The newer bytes' own ingest records them with the next number; what is stored hashes to what is recorded.
    const won = await service({ ingestBucket: DIRECT }).ingest(key);
    expect(won).toMatchObject({ status: 'accepted', build_number: baseline + 1 });
    const fw = (await buildsOf('ing', '12.0.1'))[0];
    const app = fw.files.find((f: any) => f.role === 'app');
    expect(app.sha256).toBe(sha256(b));
    expect(await storedSha256(app.key)).toBe(app.sha256);
    // Retrying the loser's bytes for that version is version_exists, consistently.
    await t.platform.s3.send(new PutObjectCommand({ Bucket: DIRECT, Key: 'ing/12.0.1/fw.bin', Body: a }));
    expect(await service({ ingestBucket: DIRECT }).ingest(key)).toMatchObject({ status: 'rejected', code: 'version_exists' });
    expect(await service({ ingestBucket: DIRECT }).ingest(key)).toMatchObject({ status: 'rejected', code: 'version_exists' });
    // And a later new version works, with the next number.
    expect((await publishRelease(t.platform, { product: 'ing', version: '12.0.2', files: { 'fw.bin': image('12.0.2', 134) } })).build_number).toBe(
      baseline + 2,
    );
  });

  it('two CI uploads of one version with different bytes at once: exactly one build, whose stored bytes hash to its sha256', async () => {
    const a = image('12.1.0', 140);
    const b = image('12.1.0', 141);
    await Promise.all([
      uploadRelease(t.platform.s3, t.platform.buckets.ingest, { product: 'ing', version: '12.1.0', files: { 'fw.bin': a } }),
      uploadRelease(t.platform.s3, t.platform.buckets.ingest, { product: 'ing', version: '12.1.0', files: { 'fw.bin': b } }),
    ]);
    await t.platform.ingest.idle();
    const builds = await buildsOf('ing', '12.1.0');
    expect(builds).toHaveLength(1);
    const app = builds[0].files.find((f: any) => f.role === 'app');
    expect([sha256(a), sha256(b)]).toContain(app.sha256);
    expect(await storedSha256(app.key)).toBe(app.sha256);
    // No orphaned lock or number: a later new version gets the next number.
    const next = await publishRelease(t.platform, { product: 'ing', version: '12.1.1', files: { 'fw.bin': image('12.1.1', 142) } });
    expect(next.build_number).toBe(builds[0].build_number + 1);
  });
});
