/**
 * Conformance: the Arduino-ESP32 HTTPUpdate route, over real HTTP against the local platform.
 *
 *   GET /api/v1/ota/arduino/{productId}   (x-ESP32-STA-MAC, x-ESP32-version, x-ESP32-sketch-sha256, …)
 *   → 304 empty (nothing newer) | 302 Location: signed CDN URL | 400 JSON (not HTTPUpdate's request)
 *     | 403 (failing credential) | 404 (unknown product). Never a 200 (HTTPUpdate would flash it).
 */
import { createHash } from 'node:crypto';
import { MAX_REQUEST_LINE_BYTES, requestLineBytes } from '../../lambdas/core/download-url';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** What HTTPUpdate sends as x-ESP32-sketch-sha256: the image digest esptool appends (last 32 bytes), upper-case hex. */
const sketchSha256 = (image: Buffer) =>
  image
    .subarray(image.length - 32)
    .toString('hex')
    .toUpperCase();

/** The headers Arduino-ESP32 3.x HTTPUpdate sends (sketch mode); `extra` overrides, `undefined` removes. */
function httpUpdateHeaders(mac: string | undefined, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const h: Record<string, string | undefined> = {
    'User-Agent': 'ESP32-http-Update',
    'x-ESP32-STA-MAC': mac,
    'x-ESP32-AP-MAC': '24:6F:28:00:00:01',
    'x-ESP32-free-space': '1966080',
    'x-ESP32-sketch-size': '1006448',
    'x-ESP32-sketch-md5': 'd16dcda8e86f2bb80a68480a84db6460',
    'x-ESP32-chip-size': '4194304',
    'x-ESP32-sdk-version': 'v5.3.1',
    'x-ESP32-mode': 'sketch',
    ...extra,
  };
  return Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined));
}

const arduino = (product: string, headers: Record<string, string>) => t.api.get(`/api/v1/ota/arduino/${product}`, headers);
const getDevice = (product: string, mac: string) => t.api.get(`/admin/v1/products/${product}/devices/${encodeURIComponent(mac)}`);

async function publish(product: string, version: string, fill: number) {
  const app = buildEspImage({ chip: 'esp32', version, fill });
  const r = await publishRelease(t.platform, { product, version, files: { 'sketch.ino.bin': app }, manifest: { release: true } });
  expect(r.status).toBe('accepted');
  return { build: r.build_number as number, app };
}
async function deploy(product: string, build: number, percentage = 100) {
  const r = await t.api.post(`/admin/v1/products/${product}/deployments`, { build, percentage });
  expect(r.status).toBe(201);
}

const builds: Record<string, { build: number; app: Buffer }> = {};

beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'ard');
  for (const [v, fill] of [
    ['1.0.0', 11],
    ['1.1.0', 12],
  ] as const) {
    builds[v] = await publish('ard', v, fill);
    await deploy('ard', builds[v].build);
  }
});
afterAll(async () => {
  await t?.platform.stop();
});

describe('GET /api/v1/ota/arduino/{productId}: update decisions', () => {
  it('answers 304 with an empty body when nothing newer is available', async () => {
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:00:01', { 'x-ESP32-version': '1.1.0' }));
    expect(r.status).toBe(304);
    expect(r.text).toBe('');
    expect(r.headers.get('location')).toBeNull();
  });

  it('answers 302 with Location = a signed CDN URL when a newer build is available', async () => {
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:00:02', { 'x-ESP32-version': '1.0.0' }));
    expect(r.status).toBe(302);
    const location = r.headers.get('location')!;
    expect(location.startsWith(t.platform.cdnUrl)).toBe(true);
    expect(location).toMatch(/[?&]Signature=/);
    expect(location).toContain(`/ard/${builds['1.1.0'].build}/app.bin`);
    expect(requestLineBytes(location)).toBeLessThanOrEqual(MAX_REQUEST_LINE_BYTES);
  });

  it('the Location downloads the exact bytes, with Content-Length', async () => {
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:00:03', { 'x-ESP32-version': '1.0.0' }));
    const res = await fetch(r.headers.get('location')!);
    expect(res.status).toBe(200);
    const expected = builds['1.1.0'].app;
    expect(Number(res.headers.get('content-length'))).toBe(expected.length);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(sha256(bytes)).toBe(sha256(expected));
    expect(bytes[0]).toBe(0xe9); // HTTPUpdate checks the ESP image magic before flashing
  });

  it('offers the newest build to a device that sends no version and an unknown sketch hash', async () => {
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:00:04', { 'x-ESP32-sketch-sha256': 'AB'.repeat(32) }));
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toContain(`/ard/${builds['1.1.0'].build}/app.bin`);
  });

  it('records the device under its STA MAC with the version it reported', async () => {
    await arduino('ard', httpUpdateHeaders('24-6f-28-aa-00-05', { 'x-ESP32-version': '1.0.0' }));
    const d = await getDevice('ard', '24:6F:28:AA:00:05');
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ device_id: '24:6F:28:AA:00:05', current_version: '1.0.0' });
  });

  it('answers 304 when the image would not fit the reported x-ESP32-free-space', async () => {
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:00:06', { 'x-ESP32-version': '1.0.0', 'x-ESP32-free-space': '1024' }));
    expect(r.status).toBe(304);
    expect(r.text).toBe('');
  });

  it('never redirects an updateSpiffs() request (x-ESP32-mode: spiffs) to the application image', async () => {
    // HTTPUpdate writes a spiffs-mode answer into the filesystem partition: an app image there destroys it.
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:00:07', { 'x-ESP32-version': '1.0.0', 'x-ESP32-mode': 'spiffs' }));
    expect(r.status).toBe(304);
    expect(r.headers.get('location')).toBeNull();
  });
});

describe('identifying the running build by x-ESP32-sketch-sha256 (no x-ESP32-version)', () => {
  it('the released build records the appended image hash HTTPUpdate reports', async () => {
    const fw = await t.api.get('/admin/v1/products/ard/firmware');
    const b = fw.body.items.find((f: any) => f.build_number === builds['1.1.0'].build);
    expect(b.image_hash).toBe(sketchSha256(builds['1.1.0'].app).toLowerCase());
  });

  it('answers 304 when the sketch hash is the latest released build', async () => {
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:01:01', { 'x-ESP32-sketch-sha256': sketchSha256(builds['1.1.0'].app) }));
    expect(r.status).toBe(304);
    expect(r.text).toBe('');
  });

  it('answers 302 to the newer build when the sketch hash is an older released build', async () => {
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:01:02', { 'x-ESP32-sketch-sha256': sketchSha256(builds['1.0.0'].app) }));
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toContain(`/ard/${builds['1.1.0'].build}/app.bin`);
  });

  it('matches the hash case-insensitively (lower-case hex)', async () => {
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:01:03', { 'x-ESP32-sketch-sha256': sketchSha256(builds['1.1.0'].app).toLowerCase() }));
    expect(r.status).toBe(304);
  });

  it('does not mistake sha256 of the whole file for the image hash', async () => {
    // sha256sum of the .bin is not what the device reports: it identifies nothing, so the newest build is offered.
    const r = await arduino('ard', httpUpdateHeaders('24:6F:28:AA:01:04', { 'x-ESP32-sketch-sha256': sha256(builds['1.1.0'].app).toUpperCase() }));
    expect(r.status).toBe(302);
  });
});

describe('unknown products and malformed requests', () => {
  it('answers 404 JSON for an unknown product', async () => {
    const r = await arduino('no-such-product', httpUpdateHeaders('24:6F:28:AA:02:01', { 'x-ESP32-version': '1.0.0' }));
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });

  it.each([
    ['a missing x-ESP32-STA-MAC header', undefined, {}],
    ['an empty x-ESP32-STA-MAC header', '', {}],
    ['an x-ESP32-STA-MAC that is not a MAC', 'not-a-mac', {}],
    ['an x-ESP32-STA-MAC with too many octets', '24:6F:28:AA:02:02:03', {}],
    ['an invalid x-ESP32-version', '24:6F:28:AA:02:03', { 'x-ESP32-version': 'banana' }],
    ['an oversized x-ESP32-version', '24:6F:28:AA:02:04', { 'x-ESP32-version': '1'.repeat(65) }],
    ['an x-ESP32-sketch-sha256 that is not a SHA-256', '24:6F:28:AA:02:05', { 'x-ESP32-sketch-sha256': 'XYZ' }],
  ] as [string, string | undefined, Record<string, string>][])('answers 400 JSON for %s, and records nothing', async (_why, mac, extra) => {
    const r = await arduino('ard', httpUpdateHeaders(mac, extra));
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    if (mac && /^24:6F/.test(mac) && mac.split(':').length === 6) expect((await getDevice('ard', mac)).status).toBe(404);
  });

  it('answers 400 (not 404) to a request without HTTPUpdate headers for an unknown product', async () => {
    const r = await arduino('no-such-product', {});
    expect(r.status).toBe(400);
  });
});

describe('product_key security mode', () => {
  let key: string;
  let newest: { build: number; app: Buffer };
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  beforeAll(async () => {
    await createProduct(t.api, 'ardkey', { security_mode: 'product_key' });
    const k = await t.api.post('/admin/v1/products/ardkey/key');
    expect(k.status).toBe(201);
    key = k.body.product_key;
    await deploy('ardkey', (await publish('ardkey', '1.0.0', 21)).build);
    newest = await publish('ardkey', '1.1.0', 22);
    await deploy('ardkey', newest.build);
  });

  it('answers 403 without a key, and records nothing', async () => {
    const r = await arduino('ardkey', httpUpdateHeaders('24:6F:28:AA:03:01', { 'x-ESP32-version': '1.0.0' }));
    expect(r.status).toBe(403);
    expect(r.headers.get('location')).toBeNull();
    expect((await getDevice('ardkey', '24:6F:28:AA:03:01')).status).toBe(404);
  });

  it.each([
    ['a wrong Basic password', () => ({ Authorization: basic('246F28AA0302', 'pk_wrong') })],
    ['a wrong X-OTA-Key', () => ({ 'X-OTA-Key': 'pk_wrong' })],
    ['the key as the Basic user instead of the password', () => ({ Authorization: basic(key, 'x') })],
  ] as [string, () => Record<string, string>][])('answers 403 with %s, and records nothing', async (_why, auth) => {
    const r = await arduino('ardkey', httpUpdateHeaders('24:6F:28:AA:03:02', { 'x-ESP32-version': '1.0.0', ...auth() }));
    expect(r.status).toBe(403);
    expect(r.headers.get('location')).toBeNull();
    expect((await getDevice('ardkey', '24:6F:28:AA:03:02')).status).toBe(404);
  });

  it('answers 302 with the key as the Basic password (user without colons: the MAC without separators)', async () => {
    const r = await arduino('ardkey', httpUpdateHeaders('24:6F:28:AA:03:03', { 'x-ESP32-version': '1.0.0', Authorization: basic('246F28AA0303', key) }));
    expect(r.status).toBe(302);
    const res = await fetch(r.headers.get('location')!);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(newest.app)).toBe(true);
  });

  it('answers 302 with the key in X-OTA-Key', async () => {
    const r = await arduino('ardkey', httpUpdateHeaders('24:6F:28:AA:03:04', { 'x-ESP32-version': '1.0.0', 'X-OTA-Key': key }));
    expect(r.status).toBe(302);
  });

  it('answers 304 with a valid key when nothing is newer', async () => {
    const r = await arduino('ardkey', httpUpdateHeaders('24:6F:28:AA:03:05', { 'x-ESP32-version': '1.1.0', Authorization: basic('246F28AA0305', key) }));
    expect(r.status).toBe(304);
  });
});

describe('failed builds', () => {
  it('a device that reported `failed` for a build never gets it again (304)', async () => {
    await createProduct(t.api, 'ardfail');
    await deploy('ardfail', (await publish('ardfail', '1.0.0', 31)).build);
    const b = await publish('ardfail', '1.1.0', 32);
    await deploy('ardfail', b.build);
    const mac = '24:6F:28:AA:04:01';
    const headers = httpUpdateHeaders(mac, { 'x-ESP32-version': '1.0.0' });

    const offer = await arduino('ardfail', headers);
    expect(offer.status).toBe(302);
    expect(offer.headers.get('location')).toContain(`/ardfail/${b.build}/app.bin`);

    const report = await t.api.post('/api/v1/ota/status/', { product: 'ardfail', device_id: mac, build_number: b.build, status: 'failed' });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ ok: true, result: 'recorded' });

    for (let i = 0; i < 3; i++) {
      const again = await arduino('ardfail', headers);
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
    }
    // Another device is still offered the build.
    expect((await arduino('ardfail', httpUpdateHeaders('24:6F:28:AA:04:02', { 'x-ESP32-version': '1.0.0' }))).status).toBe(302);
  });
});
