/**
 * Conformance: the FireFly / esp32FOTA manifest protocol (seed 003, `func-api-ota-get`), over real
 * HTTP against the local platform.
 *
 *   GET /ota/{class}/{product_hex}?current_version={version}[&id=<efuse MAC as decimal>][&token=…]
 *   → 200 { type, version, app, ui?, url | host+port+bin+spiffs }   (the oldest newer release esp32FOTA
 *     orders above current_version; or the running version's own)
 *   → 400 missing/invalid current_version, 404 unknown product / failing credential,
 *     409 current version REVOKED and nothing newer.
 *
 * "Released and available" = an active deployment of a RELEASED build: anonymous requesters (no
 * `id`) only see deployments at 100 %; with `id` the device is placed in the rollout cohorts.
 */
import { createHash } from 'node:crypto';
import { inCohort } from '../../lambdas/core/cohort';
import { MAX_REQUEST_LINE_BYTES, requestLineBytes } from '../../lambdas/core/download-url';
import { ESP32FOTA_MANIFEST_MAX_BYTES, esp32FotaDeviceId } from '../../lambdas/protocols/firefly/wire';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;

const CLASS = 'controller';
const HEX = '0x32322505';
const TYPE = 'FireFly Controller';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** GET /ota/{class}/{hex} with the given query (encoded like a device would). */
const ota = (cls: string, hex: string, query: Record<string, string> = {}, headers?: Record<string, string>) => {
  const qs = new URLSearchParams(query).toString();
  return t.api.get(`/ota/${cls}/${hex}${qs ? `?${qs}` : ''}`, headers);
};

/** Publishes one version and returns its build number. */
async function publish(
  product: string,
  version: string,
  fill: number,
  opts: { ui?: Buffer; extra?: Record<string, Buffer>; manifest?: Record<string, unknown>; chip?: 'esp32' } = {},
) {
  const app = buildEspImage({ chip: opts.chip ?? 'esp32', version, fill });
  const files: Record<string, Buffer> = { 'Controller.ino.bin': app, ...(opts.ui ? { 'ui.bin': opts.ui } : {}), ...opts.extra };
  const r = await publishRelease(t.platform, { product, version, files, manifest: { release: true, ...opts.manifest } });
  expect(r.status).toBe('accepted');
  return { build: r.build_number as number, app, result: r };
}

async function deploy(product: string, build: number, percentage: number, seed?: string): Promise<string> {
  const r = await t.api.post(`/admin/v1/products/${product}/deployments`, { build, percentage, ...(seed ? { seed } : {}) });
  expect(r.status).toBe(201);
  return r.body.deployment_id;
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Every string in the body that is a URL. */
const urlsIn = (body: Record<string, unknown>) => Object.values(body).filter((v): v is string => typeof v === 'string' && /^https?:\/\//.test(v));

const uiImage = (seed: number) => Buffer.alloc(8192, seed);

// Main product: 1.0.0 (ui), 1.1.0 (ui + bootloader, partitions, config), 1.2.0 (no ui); all at 100 %.
const main: Record<string, { build: number; app: Buffer; ui?: Buffer }> = {};

beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'ffctl', { firmware_type: TYPE, protocols: { firefly: { product_class: CLASS, product_hex: HEX } } });
  const ui100 = uiImage(0x10);
  const ui110 = uiImage(0x11);
  main['1.0.0'] = { ...(await publish('ffctl', '1.0.0', 1, { ui: ui100, manifest: { firmware_type: TYPE } })), ui: ui100 };
  const b110 = await publish('ffctl', '1.1.0', 2, {
    ui: ui110,
    extra: {
      'Controller.ino.bootloader.bin': Buffer.from('bootloader-bytes'),
      'Controller.ino.partitions.bin': Buffer.from('partition-table-bytes'),
      'config.bin': Buffer.from('device-specific-config'),
    },
    manifest: { firmware_type: TYPE },
  });
  expect(b110.result.excluded).toEqual(expect.arrayContaining(['Controller.ino.bootloader.bin', 'Controller.ino.partitions.bin', 'config.bin']));
  main['1.1.0'] = { ...b110, ui: ui110 };
  main['1.2.0'] = await publish('ffctl', '1.2.0', 3, { manifest: { firmware_type: TYPE } });
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) await deploy('ffctl', main[v].build, 100);
});
afterAll(async () => {
  await t?.platform.stop();
});

describe('esp32FotaDeviceId (esp32FOTA useDeviceId: efuse MAC as a decimal number)', () => {
  it('maps a decimal efuse MAC to AA:BB:CC:DD:EE:FF, least significant byte first', () => {
    // 132311636168612 = 0x78563412CFA4: the MAC's first byte is the number's lowest byte.
    expect(esp32FotaDeviceId('132311636168612')).toBe('A4:CF:12:34:56:78');
    expect(esp32FotaDeviceId('1')).toBe('01:00:00:00:00:00');
    expect(esp32FotaDeviceId('0')).toBe('00:00:00:00:00:00');
    expect(esp32FotaDeviceId(String(2 ** 48 - 1))).toBe('FF:FF:FF:FF:FF:FF');
  });

  it('returns non-numeric ids unchanged', () => {
    for (const id of ['AA:BB:CC:DD:EE:FF', 'dev-1', 'a4cf12345678', '12ab', '-5', '1.5']) expect(esp32FotaDeviceId(id)).toBe(id);
  });

  it('returns numbers of 2^48 and above unchanged (not a MAC)', () => {
    expect(esp32FotaDeviceId(String(2 ** 48))).toBe(String(2 ** 48));
    expect(esp32FotaDeviceId('999999999999999')).toBe('999999999999999');
    expect(esp32FotaDeviceId('1234567890123456789')).toBe('1234567890123456789');
  });
});

describe('GET /ota/{class}/{product_hex}: product lookup', () => {
  it('answers 200 with a manifest for the product bound to class + product_hex', async () => {
    const r = await ota(CLASS, HEX, { current_version: '1.0.0' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.body).toMatchObject({ type: TYPE, version: '1.1.0' });
  });

  it('matches product_hex case-insensitively (0X32322505 and 0x32322505)', async () => {
    const lower = await ota(CLASS, '0x32322505', { current_version: '1.0.0' });
    const upper = await ota(CLASS, '0X32322505', { current_version: '1.0.0' });
    expect(lower.status).toBe(200);
    expect(upper.status).toBe(200);
    expect(upper.body.version).toBe(lower.body.version);
    expect(upper.body.type).toBe(TYPE);
  });

  it('matches hex digits case-insensitively (product bound as 0xC0FFEE01, asked as 0xc0ffee01 / 0XC0FFEE01)', async () => {
    await createProduct(t.api, 'ffhexcase', { firmware_type: TYPE, protocols: { firefly: { product_class: 'sensor', product_hex: '0xC0FFEE01' } } });
    const { build } = await publish('ffhexcase', '1.0.0', 40);
    await deploy('ffhexcase', build, 100);
    for (const hex of ['0xc0ffee01', '0XC0FFEE01', '0xC0ffEE01']) {
      const r = await ota('sensor', hex, { current_version: '0.9.0' });
      expect(r.status).toBe(200);
      expect(r.body.version).toBe('1.0.0');
    }
  });

  it.each([
    ['an unknown product_hex', CLASS, '0x99999999'],
    ['an unknown class', 'sensor', HEX],
    ['a product_hex that is not hex', CLASS, '32322505'],
    ['a product_hex with non-hex digits', CLASS, '0xZZ'],
  ])('answers 404 JSON for %s', async (_why, cls, hex) => {
    const r = await ota(cls, hex, { current_version: '1.0.0' });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });
});

describe('sequential updates: the oldest RELEASED version strictly greater than current_version', () => {
  it('offers 1.1.0 to a device on 1.0.0 although 1.2.0 exists', async () => {
    const r = await ota(CLASS, HEX, { current_version: '1.0.0' });
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('1.1.0');
  });

  it('offers 1.2.0 to a device on 1.1.0', async () => {
    expect((await ota(CLASS, HEX, { current_version: '1.1.0' })).body.version).toBe('1.2.0');
  });

  it('offers the first release to a device older than every release', async () => {
    expect((await ota(CLASS, HEX, { current_version: '0.0.1' })).body.version).toBe('1.0.0');
  });

  it('a device between releases gets the next one (1.0.5 → 1.1.0)', async () => {
    expect((await ota(CLASS, HEX, { current_version: '1.0.5' })).body.version).toBe('1.1.0');
  });

  it('orders calendar versions 2026.03.001 < 2026.03.002 < 2026.10.001 (published out of order)', async () => {
    await createProduct(t.api, 'ffcal', { firmware_type: TYPE, protocols: { firefly: { product_class: 'calendar', product_hex: '0x00000002' } } });
    // Published newest first: the order is by version, not by build number.
    for (const [v, fill] of [
      ['2026.10.001', 50],
      ['2026.03.002', 51],
      ['2026.03.001', 52],
    ] as const) {
      const { build } = await publish('ffcal', v, fill);
      await deploy('ffcal', build, 100);
    }
    const next = async (v: string) => (await ota('calendar', '0x00000002', { current_version: v })).body.version;
    expect(await next('2026.02.999')).toBe('2026.03.001');
    expect(await next('2026.03.001')).toBe('2026.03.002');
    expect(await next('2026.03.002')).toBe('2026.10.001');
    expect(await next('2026.10.001')).toBe('2026.10.001'); // latest: same version
  });

  // "Newer" follows the version the device reports, not upload order (build numbers).
  it('orders calendar versions for an identified device (id) as well', async () => {
    // Same product as above: builds were published newest first (2026.10.001 has the lowest build).
    const next = async (v: string, id: string) => (await ota('calendar', '0x00000002', { current_version: v, id })).body.version;
    expect(await next('2026.03.001', '132311636170001')).toBe('2026.03.002');
    expect(await next('2026.03.002', '132311636170002')).toBe('2026.10.001');
  });

  describe('a hotfix uploaded after a newer release (1.0.0, 1.2.0, then 1.1.1)', () => {
    const next = async (v: string, id?: string) => (await ota('hotfix', '0x8', { current_version: v, ...(id ? { id } : {}) })).body.version;
    beforeAll(async () => {
      await createProduct(t.api, 'ffhotfix', { firmware_type: TYPE, protocols: { firefly: { product_class: 'hotfix', product_hex: '0x8' } } });
      for (const [v, fill] of [
        ['1.0.0', 120],
        ['1.2.0', 121],
        ['1.1.1', 122],
      ] as const) {
        const { build } = await publish('ffhotfix', v, fill);
        await deploy('ffhotfix', build, 100);
      }
    });

    it('is next for older devices and never a downgrade (anonymous)', async () => {
      expect(await next('1.0.0')).toBe('1.1.1');
      expect(await next('1.1.1')).toBe('1.2.0');
      expect(await next('1.2.0')).toBe('1.2.0');
    });

    it('is next for an identified device on 1.0.0', async () => {
      expect(await next('1.0.0', '132311636170010')).toBe('1.1.1');
    });

    it('is never offered as a downgrade to an identified device on 1.2.0', async () => {
      expect(await next('1.2.0', '132311636170011')).toBe('1.2.0');
    });
  });

  it('never offers a DRAFT build, nor a RELEASED build without an active deployment', async () => {
    await createProduct(t.api, 'ffdraft', { firmware_type: TYPE, protocols: { firefly: { product_class: 'draft', product_hex: '0x3' } } });
    const v1 = await publish('ffdraft', '1.0.0', 60);
    await deploy('ffdraft', v1.build, 100);
    await publish('ffdraft', '1.1.0', 61, { manifest: { release: false } }); // DRAFT
    await publish('ffdraft', '1.2.0', 62); // RELEASED, never deployed
    const r = await ota('draft', '0x3', { current_version: '1.0.0' });
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('1.0.0');
  });
});

describe('already on the latest release', () => {
  it('answers 200 with the same version manifest (version = current_version, app URL present)', async () => {
    const r = await ota(CLASS, HEX, { current_version: '1.2.0' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ type: TYPE, version: '1.2.0' });
    expect(r.body.app).toEqual(expect.stringMatching(/^https?:\/\//));
    expect((await download(r.body.app)).equals(main['1.2.0'].app)).toBe(true);
  });

  it('answers 200 with the running version for a version newer than every release (esp32FOTA sees no update)', async () => {
    const r = await ota(CLASS, HEX, { current_version: '9.9.9' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ type: TYPE, version: '9.9.9' });
    // Complete for stock esp32FOTA (url, else "missing one of the required keys") and the fork
    // (app); the URL is the latest release's, valid, never flashed since 9.9.9 is not newer.
    expect(r.body.url).toBe(r.body.app);
    expect((await download(r.body.url)).equals(main['1.2.0'].app)).toBe(true);
  });

  it('a product with no release at all answers 404 (esp32FOTA treats any non-200 as no update)', async () => {
    await createProduct(t.api, 'ffempty', { firmware_type: TYPE, protocols: { firefly: { product_class: 'empty', product_hex: '0x7' } } });
    const r = await ota('empty', '0x7', { current_version: '1.0.0' });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('no_release');
  });
});

describe('REVOKED current version', () => {
  let b110: number;
  beforeAll(async () => {
    await createProduct(t.api, 'ffrev', { firmware_type: TYPE, protocols: { firefly: { product_class: 'revoke', product_hex: '0x4' } } });
    const v1 = await publish('ffrev', '1.0.0', 70);
    const v11 = await publish('ffrev', '1.1.0', 71);
    b110 = v11.build;
    await deploy('ffrev', v1.build, 100);
    await deploy('ffrev', v11.build, 100);
    expect((await t.api.post(`/admin/v1/products/ffrev/firmware/${b110}/revoke`)).status).toBe(200);
  });

  it('answers 409 when the current version is REVOKED and no newer release exists', async () => {
    const r = await ota('revoke', '0x4', { current_version: '1.1.0' });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });

  it('answers 409 to an identified device (id) on the REVOKED version too', async () => {
    const r = await ota('revoke', '0x4', { current_version: '1.1.0', id: '132311636168700' });
    expect(r.status).toBe(409);
  });

  it('never offers the REVOKED build to older devices', async () => {
    const r = await ota('revoke', '0x4', { current_version: '1.0.0' });
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('1.0.0');
  });

  it('moves a device off the REVOKED version once a newer release exists', async () => {
    const v12 = await publish('ffrev', '1.2.0', 72);
    await deploy('ffrev', v12.build, 100);
    const r = await ota('revoke', '0x4', { current_version: '1.1.0' });
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('1.2.0');
  });
});

describe('current_version validation', () => {
  it('answers 400 when current_version is missing', async () => {
    const r = await ota(CLASS, HEX);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });

  it('answers 400 when current_version is missing even with an id', async () => {
    expect((await ota(CLASS, HEX, { id: '132311636168612' })).status).toBe(400);
  });

  it.each([
    ['empty', ''],
    ['not a version', 'banana'],
    ['too many segments', '1.2.3.4.5'],
    ['too long', '1.'.repeat(40) + '0'],
    ['with spaces', '1.0 .0'],
  ])('answers 400 for an invalid current_version (%s)', async (_why, v) => {
    const r = await ota(CLASS, HEX, { current_version: v });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toEqual(expect.any(String));
  });

  it.each([
    ['with spaces', 'bad id!'],
    ['too long', '1'.repeat(65)],
    ['leading dash', '-132311636168612'],
  ])('answers 400 (not 5xx) for a malformed id (%s)', async (_why, id) => {
    const r = await ota(CLASS, HEX, { current_version: '1.0.0', id });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toEqual(expect.any(String));
  });
});

describe('manifest body { type, version, app, ui? } (+ url or host/port/bin/spiffs for stock esp32FOTA)', () => {
  it('release with a ui image: app and ui for the fork, host/port/bin/spiffs (no url) for stock esp32FOTA', async () => {
    const r = await ota(CLASS, HEX, { current_version: '1.0.0' });
    expect(Object.keys(r.body).sort()).toEqual(['app', 'bin', 'host', 'port', 'spiffs', 'type', 'ui', 'version']);
    expect(r.body.type).toBe(TYPE);
    expect(r.body.version).toBe('1.1.0');
    // esp32FOTA checkJSONManifest: (port 443|4433 ? https : http)://host:port + bin / + spiffs.
    const base = `${r.body.port === 443 || r.body.port === 4433 ? 'https' : 'http'}://${r.body.host}:${r.body.port}`;
    expect(sha256(await download(base + r.body.bin))).toBe(sha256(main['1.1.0'].app));
    expect(sha256(await download(base + r.body.spiffs))).toBe(sha256(main['1.1.0'].ui!));
  });

  it('app and ui are signed CDN URLs that download the exact bytes through the local edge', async () => {
    const r = await ota(CLASS, HEX, { current_version: '1.0.0' });
    for (const u of [r.body.app, r.body.ui]) {
      expect(u.startsWith(t.platform.cdnUrl)).toBe(true);
      expect(u).toMatch(/[?&]Signature=/);
    }
    const app = await download(r.body.app);
    expect(sha256(app)).toBe(sha256(main['1.1.0'].app));
    const ui = await download(r.body.ui);
    expect(sha256(ui)).toBe(sha256(main['1.1.0'].ui!));
    // The signature covers the object: swapping the path is refused.
    expect((await fetch(r.body.app.replace('/app.bin', '/ui.bin'))).status).toBe(403);
  });

  it('omits ui when the release has no ui.bin', async () => {
    const r = await ota(CLASS, HEX, { current_version: '1.1.0' });
    expect(r.body.version).toBe('1.2.0');
    expect(r.body).not.toHaveProperty('ui');
    expect(Object.keys(r.body).sort()).toEqual(['app', 'type', 'url', 'version']);
    expect(r.body.url).toBe(r.body.app);
  });

  it('never offers bootloader, partitions, config.bin or manifest.json (no URL for them anywhere)', async () => {
    const r = await ota(CLASS, HEX, { current_version: '1.0.0' });
    expect(r.body.version).toBe('1.1.0'); // the build that shipped all of them
    expect(new Set(urlsIn(r.body))).toEqual(new Set([r.body.app, r.body.ui]));
    expect(r.text).not.toMatch(/bootloader|partitions|config|manifest/i);
    // Each URL handed out downloads the app or the ui image, nothing else.
    for (const u of urlsIn(r.body)) {
      const bytes = await download(u);
      expect(bytes.equals(main['1.1.0'].app) || bytes.equals(main['1.1.0'].ui!)).toBe(true);
    }
  });

  it('takes type from the CI manifest firmware_type (not the product default)', async () => {
    await createProduct(t.api, 'fftype', { firmware_type: 'Product Default', protocols: { firefly: { product_class: 'typed', product_hex: '0x5' } } });
    const { build } = await publish('fftype', '1.0.0', 80, { manifest: { firmware_type: 'FireFly Panel' } });
    await deploy('fftype', build, 100);
    const r = await ota('typed', '0x5', { current_version: '0.1.0' });
    expect(r.body).toMatchObject({ type: 'FireFly Panel', version: '1.0.0' });
  });

  it('stays under 2048 bytes (raw text) with a 64-char firmware_type, a 32-char product id and ui present', async () => {
    const product = 'ff-size-' + 'x'.repeat(24);
    expect(product).toHaveLength(32);
    const longType = 'FireFly Controller ' + 'L'.repeat(45);
    expect(longType).toHaveLength(64);
    await createProduct(t.api, product, { firmware_type: TYPE, protocols: { firefly: { product_class: 'c'.repeat(32), product_hex: '0x' + 'f'.repeat(16) } } });
    // Long, yet one esp32FOTA orders above 2026.01.001 (it reads 2026.12.999; a -rc suffix would read 0.0.0).
    const version = '2026.12.999.1234567890';
    const { build } = await publish(product, version, 90, { ui: uiImage(0x90), manifest: { firmware_type: longType } });
    await deploy(product, build, 100);
    const r = await ota('c'.repeat(32), '0x' + 'F'.repeat(16), { current_version: '2026.01.001' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ type: longType, version });
    expect(r.body.ui).toEqual(expect.any(String));
    const bytes = Buffer.byteLength(r.text, 'utf8');
    expect(bytes).toBeLessThan(ESP32FOTA_MANIFEST_MAX_BYTES);
    expect(bytes).toBeLessThan(2048);
    // Headroom for the cloud: the default CloudFront host is longer than the local edge's.
    const cloudHost = 'https://d111111abcdef8.cloudfront.net';
    const growth = urlsIn(r.body).length * Math.max(0, cloudHost.length - t.platform.cdnUrl.replace(/\/+$/, '').length);
    expect(bytes + growth).toBeLessThan(2048);
  });

  it('keeps the request line of every URL within 512 bytes', async () => {
    const r = await ota(CLASS, HEX, { current_version: '1.0.0' });
    for (const u of urlsIn(r.body)) expect(requestLineBytes(u)).toBeLessThanOrEqual(MAX_REQUEST_LINE_BYTES);
    expect(MAX_REQUEST_LINE_BYTES).toBe(512);
  });
});

describe('rollout cohorts: anonymous requesters vs esp32FOTA ids', () => {
  const P = 'ffroll';
  const Q = { cls: 'rollout', hex: '0x6' };
  const SEED = 'ff-conformance-seed';
  let depId: string;
  /** 40 decimal efuse MACs (Espressif OUI 24:6F:28 in the low bytes). */
  const ids = Array.from({ length: 40 }, (_, i) => String(0x28_6f_24n + (BigInt(0x100000 + i * 7919) << 24n)));
  const macOf = (id: string) => esp32FotaDeviceId(id);

  beforeAll(async () => {
    await createProduct(t.api, P, { firmware_type: TYPE, protocols: { firefly: { product_class: Q.cls, product_hex: Q.hex } } });
    const v1 = await publish(P, '1.0.0', 100);
    await deploy(P, v1.build, 100);
    const v2 = await publish(P, '2.0.0', 101);
    depId = await deploy(P, v2.build, 0, SEED);
  });

  it('a 0 % deployment is offered to nobody, anonymous or identified', async () => {
    expect((await ota(Q.cls, Q.hex, { current_version: '1.0.0' })).body.version).toBe('1.0.0');
    for (const id of ids.slice(0, 10)) expect((await ota(Q.cls, Q.hex, { current_version: '1.0.0', id })).body.version).toBe('1.0.0');
  });

  it('maps the decimal id to the device MAC (the device is tracked under AA:BB:…)', async () => {
    const id = '132311636168612';
    expect((await ota(Q.cls, Q.hex, { current_version: '1.0.0', id })).status).toBe(200);
    const d = await t.api.get(`/admin/v1/products/${P}/devices/${encodeURIComponent('A4:CF:12:34:56:78')}`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ device_id: 'A4:CF:12:34:56:78', current_version: '1.0.0' });
    expect((await t.api.get(`/admin/v1/products/${P}/devices/${id}`)).status).toBe(404);
  });

  it('at a low percentage only the ids in the cohort get the build; anonymous requesters never do', async () => {
    expect((await t.api.post(`/admin/v1/products/${P}/deployments/${depId}/promote`, { percentage: 25 })).status).toBe(200);
    const expected = ids.map((id) => (inCohort(SEED, macOf(id), 25) ? '2.0.0' : '1.0.0'));
    // The fixture must exercise both sides.
    expect(expected).toContain('2.0.0');
    expect(expected).toContain('1.0.0');
    expect(expected.filter((v) => v === '2.0.0').length).toBeLessThan(ids.length / 2);
    const got: string[] = [];
    for (const id of ids) got.push((await ota(Q.cls, Q.hex, { current_version: '1.0.0', id })).body.version);
    expect(got).toEqual(expected);
    expect((await ota(Q.cls, Q.hex, { current_version: '1.0.0' })).body.version).toBe('1.0.0');
  });

  it('the same id always gets the same answer', async () => {
    const sample = ids.slice(0, 8);
    const first: string[] = [];
    for (const id of sample) first.push((await ota(Q.cls, Q.hex, { current_version: '1.0.0', id })).body.version);
    for (let round = 0; round < 2; round++) {
      const again: string[] = [];
      for (const id of sample) again.push((await ota(Q.cls, Q.hex, { current_version: '1.0.0', id })).body.version);
      expect(again).toEqual(first);
    }
  });

  it('at 100 % anonymous requesters get the build too', async () => {
    expect((await t.api.post(`/admin/v1/products/${P}/deployments/${depId}/promote`, { percentage: 100 })).status).toBe(200);
    expect((await ota(Q.cls, Q.hex, { current_version: '1.0.0' })).body.version).toBe('2.0.0');
    expect((await ota(Q.cls, Q.hex, { current_version: '1.0.0', id: ids[0] })).body.version).toBe('2.0.0');
  });
});

describe('product_key security mode', () => {
  const P = 'ffkey';
  const Q = { cls: 'keyed', hex: '0x7' };
  let key: string;
  beforeAll(async () => {
    await createProduct(t.api, P, { firmware_type: TYPE, security_mode: 'product_key', protocols: { firefly: { product_class: Q.cls, product_hex: Q.hex } } });
    const k = await t.api.post(`/admin/v1/products/${P}/key`);
    expect(k.status).toBe(201);
    key = k.body.product_key;
    const { build } = await publish(P, '1.0.0', 110);
    await deploy(P, build, 100);
  });

  it('answers 404 without a key', async () => {
    const r = await ota(Q.cls, Q.hex, { current_version: '0.1.0' });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toEqual(expect.any(String));
    expect(r.body).not.toHaveProperty('app');
  });

  it('answers 404 with a wrong key (header or query)', async () => {
    expect((await ota(Q.cls, Q.hex, { current_version: '0.1.0' }, { 'X-OTA-Key': 'pk_wrong' })).status).toBe(404);
    expect((await ota(Q.cls, Q.hex, { current_version: '0.1.0', token: 'pk_wrong' })).status).toBe(404);
  });

  it('answers 404 to an identified device without a key, and records nothing', async () => {
    const id = '132311636168999';
    expect((await ota(Q.cls, Q.hex, { current_version: '0.1.0', id })).status).toBe(404);
    expect((await t.api.get(`/admin/v1/products/${P}/devices/${encodeURIComponent(esp32FotaDeviceId(id))}`)).status).toBe(404);
  });

  it.each([
    ['X-OTA-Key header', () => [{ current_version: '0.1.0' }, { 'X-OTA-Key': key }]],
    ['Authorization: Bearer', () => [{ current_version: '0.1.0' }, { Authorization: `Bearer ${key}` }]],
    ['token query parameter', () => [{ current_version: '0.1.0', token: key }, undefined]],
  ] as [string, () => [Record<string, string>, Record<string, string> | undefined]][])('answers the manifest with the key in the %s', async (_how, args) => {
    const [query, headers] = args();
    const r = await ota(Q.cls, Q.hex, query, headers);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ type: TYPE, version: '1.0.0', app: expect.any(String) });
  });
});

describe('stock esp32FOTA never gets stuck', () => {
  beforeAll(async () => {
    await createProduct(t.api, 'ffsemver', { firmware_type: TYPE, protocols: { firefly: { product_class: 'semver', product_hex: '0x8' } } });
    for (const [v, fill] of [
      ['1.0.0', 80],
      ['1.1.0-rc.1', 81],
      ['2.0.0.1', 82],
      ['1.2.0', 83],
    ] as const) {
      const { build } = await publish('ffsemver', v, fill);
      await deploy('ffsemver', build, 100);
    }
  });

  // esp32FOTA reads 1.1.0-rc.1 as 0.0.0 and 2.0.0.1 as 2.0.0 (semver_parse_version); offering it
  // the oldest newer release would hand it 1.1.0-rc.1 forever, which it never installs.
  it('skips releases esp32FOTA cannot order strictly above the device', async () => {
    expect((await ota('semver', '0x8', { current_version: '1.0.0' })).body.version).toBe('1.2.0');
    expect((await ota('semver', '0x8', { current_version: '1.0.0', id: '132311636170001' })).body.version).toBe('1.2.0');
    // 2.0.0.1 is 2.0.0 to the library: a device on 2.0.0 is not offered it.
    const r = await ota('semver', '0x8', { current_version: '2.0.0' });
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('2.0.0');
  });

  it('an unregistered id on a product without self-registration gets what an anonymous device gets', async () => {
    await createProduct(t.api, 'ffnoreg', {
      firmware_type: TYPE,
      auto_register: false,
      protocols: { firefly: { product_class: 'noreg', product_hex: '0x9' } },
    });
    for (const [v, fill] of [
      ['1.0.0', 90],
      ['1.1.0', 91],
    ] as const) {
      const { build } = await publish('ffnoreg', v, fill);
      await deploy('ffnoreg', build, 100);
    }
    const anon = await ota('noreg', '0x9', { current_version: '1.0.0' });
    const withId = await ota('noreg', '0x9', { current_version: '1.0.0', id: '132311636170002' });
    expect(anon.body.version).toBe('1.1.0');
    expect(withId.status).toBe(200);
    expect(withId.body.version).toBe('1.1.0');
    expect(withId.body.app).toEqual(expect.stringMatching(/^https?:\/\//));
    // Still not registered by it.
    expect((await t.api.get(`/admin/v1/products/ffnoreg/devices/${encodeURIComponent(esp32FotaDeviceId('132311636170002'))}`)).status).toBe(404);
  });

  it('device_token mode: an unknown id (it has no token) stays refused', async () => {
    await createProduct(t.api, 'fftoken', {
      firmware_type: TYPE,
      security_mode: 'device_token',
      auto_register: false,
      protocols: { firefly: { product_class: 'tok', product_hex: '0xA' } },
    });
    const { build } = await publish('fftoken', '1.1.0', 92);
    await deploy('fftoken', build, 100);
    expect((await ota('tok', '0xA', { current_version: '1.0.0', id: '132311636170003' })).status).toBe(404);
  });

  // esp32FOTA::setupHTTP sets setReuse(true): a kept-alive manifest socket would carry the
  // firmware GET to the API port when the CDN shares its host name.
  it('closes the connection after the manifest (a second request on that socket is never served)', async () => {
    const { createConnection } = await import('node:net');
    const url = new URL(t.platform.apiUrl);
    const sock = createConnection({ host: url.hostname, port: Number(url.port) });
    let received = '';
    sock.on('data', (c) => (received += c.toString()));
    const closed = new Promise<void>((res) => sock.on('close', () => res()));
    await new Promise<void>((res) => sock.on('connect', () => res()));
    const req = `GET /ota/${CLASS}/${HEX}?current_version=1.0.0 HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`;
    sock.write(req);
    sock.write(req.replace('1.0.0', '1.1.0'));
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(received.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
  });
});
