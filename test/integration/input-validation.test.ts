/**
 * Device input that becomes a key or a stored value is validated before any I/O, on every device
 * route: unparseable versions and over-long / garbage path parameters and headers are a 4xx with
 * a JSON error (or the seed's documented business answer), never a 5xx, and nothing is written.
 * Real platform over HTTP.
 */
import { ROUTES } from '../../lambdas/routes';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';

jest.setTimeout(60_000);
let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'val', {
    auto_register: true,
    protocols: { cheeko: { application: 'val', default: true }, firefly: { product_class: 'valclass', product_hex: '0x0badcafe' } },
  });
});
afterAll(() => t?.platform.stop());

const MAC = '24:6F:28:AA:BB:01';
const devicesOf = async (product: string) => (await t.api.get(`/admin/v1/products/${product}/devices`)).body.items as unknown[];

describe('an unparseable version is refused on every route that takes one', () => {
  it('native check: 400 validation_failed naming version, nothing registered', async () => {
    const r = await t.api.post('/api/v1/ota/check/', { product: 'val', device_id: 'ver-native', version: 'banana' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'validation_failed', details: { fields: ['version'] } });
    expect((await t.api.get('/admin/v1/products/val/devices/ver-native')).status).toBe(404);
    // A parseable one still works (and registers).
    expect((await t.api.post('/api/v1/ota/check/', { product: 'val', device_id: 'ver-native', version: 'v1.2.3-rc.1+abc' })).body.status).toBe('no_update');
  });

  it('Cheeko POST /toy/ota: 400 { code: 400, msg }, nothing registered; absent/empty version is still fine', async () => {
    const r = await t.api.post('/toy/ota/', { version: 'banana', board: 'esp32' }, { 'device-id': MAC });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 400, msg: expect.any(String) });
    const num = await t.api.post('/toy/ota/', { version: 105 }, { 'device-id': MAC });
    expect(num.status).toBe(400);
    expect(await devicesOf('val')).not.toContainEqual(expect.objectContaining({ device_id: MAC }));
    const ok = await t.api.post('/toy/ota/', { version: '1.0.5', board: 'esp32' }, { 'device-id': MAC });
    expect(ok.status).toBe(200);
    expect(ok.body.device).toMatchObject({ mac: MAC, currentVersion: '1.0.5' });
    expect((await t.api.post('/toy/ota/', {}, { 'device-id': '24:6F:28:AA:BB:02' })).status).toBe(200);
  });

  it('Arduino x-ESP32-version, Bota heartbeat and releases/latest, FireFly: 400 JSON', async () => {
    const arduino = await t.api.get('/api/v1/ota/arduino/val', { 'x-esp32-sta-mac': MAC, 'x-esp32-version': 'banana' });
    expect(arduino.status).toBe(400);
    expect(arduino.body.error.code).toBe('invalid_arduino_request');
    const hb = await t.api.post('/api/v1/devices/ver-bota/heartbeat', { product: 'val', firmware_version: 'banana' });
    expect(hb.status).toBe(400);
    expect(hb.body.error.code).toBe('validation_failed');
    const latest = await t.api.get('/api/v1/products/val/releases/latest?current_version=banana');
    expect(latest.status).toBe(400);
    const ff = await t.api.get('/ota/valclass/0x0badcafe?current_version=banana');
    expect(ff.status).toBe(400);
    expect((await t.api.get('/admin/v1/products/val/devices/ver-bota')).status).toBe(404);
  });
});

describe('every device route refuses garbage path parameters and headers with a 4xx, never a 5xx', () => {
  const deviceRoutes = ROUTES.filter((r) => r.auth === 'none');
  const GARBAGE = ['a'.repeat(3000), 'b'.repeat(2100), 'c'.repeat(1100), 'bad id!', '%00', '\u00e9\u00e9', '../x'];
  const HEADER_GARBAGE: Record<string, string>[] = [
    { 'x-esp32-sta-mac': 'f'.repeat(3000) },
    { 'x-esp32-sta-mac': MAC, 'x-esp32-version': '1'.repeat(3000) },
    { 'x-esp32-sta-mac': MAC, 'x-esp32-sketch-sha256': 'z'.repeat(3000) },
    { 'device-id': 'd'.repeat(3000) },
    { 'x-ota-key': 'k'.repeat(3000) },
    { 'x-ota-token': 't'.repeat(3000) },
    { authorization: `Bearer ${'b'.repeat(3000)}` },
  ];
  const BODY = { product: 'val', device_id: 'route-walk', version: '1.0.0', build_number: 1, status: 'success', mac: MAC };

  const fill = (path: string, value: string) => path.replace(/\{[^}]+\}/g, () => encodeURIComponent(value));
  const send = (method: string, path: string, headers: Record<string, string> = {}) =>
    t.api.call(
      method,
      path.includes('releases/latest') || path.startsWith('/ota/') ? `${path}?current_version=1.0.0` : path,
      method === 'GET' ? undefined : BODY,
      headers,
    );

  const expectHonest = (r: { status: number; headers: Headers; text: string }, what: string) => {
    if (r.status >= 500) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
    if (r.status >= 400) {
      expect([what, r.headers.get('content-type')]).toEqual([what, expect.stringContaining('application/json')]);
      expect(() => JSON.parse(r.text)).not.toThrow();
    }
  };

  it('covers every device route of the route table', () => {
    expect(deviceRoutes.length).toBeGreaterThanOrEqual(11);
  });

  for (const route of deviceRoutes) {
    it(`${route.method} ${route.path}`, async () => {
      const withParams = route.path.includes('{');
      for (const value of withParams ? GARBAGE : []) {
        const r = await send(route.method, fill(route.path, value), { 'x-esp32-sta-mac': MAC }); // a valid HTTPUpdate request but for the parameter
        expectHonest(r, `${route.method} ${route.path} = ${value.slice(0, 12)}…(${value.length})`);
        // Keyed parameters are refused outright (4xx); IoTaaP answers its documented 404.
        expect(r.status).toBeGreaterThanOrEqual(400);
      }
      for (const headers of HEADER_GARBAGE) {
        const r = await send(route.method, fill(route.path, route.path.includes('productId') ? 'val' : 'route-walk'), headers);
        expectHonest(r, `${route.method} ${route.path} with ${Object.keys(headers).join(',')}`);
      }
    });
  }

  it('a valid but unknown product id keeps its business answer', async () => {
    expect((await t.api.get('/api/v1/products/nope/releases/latest?current_version=1.0.0')).body).toMatchObject({ status: 'unknown_product' });
    expect((await t.api.get('/api/v1/ota/arduino/nope', { 'x-esp32-sta-mac': MAC })).status).toBe(404);
  });

  it('the over-long product ids of the issue are 400 with a JSON error code', async () => {
    const arduino = await t.api.get(`/api/v1/ota/arduino/${'a'.repeat(3000)}`, { 'x-esp32-sta-mac': MAC });
    expect(arduino.status).toBe(400);
    expect(arduino.body.error.code).toBe('invalid_product_id');
    const bota = await t.api.get(`/api/v1/products/${'a'.repeat(2100)}/releases/latest?current_version=1.0.0`);
    expect(bota.status).toBe(400);
    expect(bota.body.error.code).toBe('invalid_product_id');
    const ff = await t.api.get(`/ota/${'a'.repeat(1100)}/0x1?current_version=1.0.0`);
    expect(ff.status).toBe(400);
    expect(ff.body.error.code).toBe('invalid_product_class');
  });

  it('nothing was written for any refused request', async () => {
    const ids = ((await devicesOf('val')) as { device_id: string }[]).map((d) => d.device_id);
    expect(ids.every((id) => id.length <= 64)).toBe(true);
  });
});
