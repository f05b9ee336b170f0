/**
 * Conformance: per-product device security modes on the native API (seed
 * /work/shared/seeds/000_21d13a066cc54fc4.txt, "Security modes"), over real HTTP:
 * `POST /api/v1/ota/check/` and `POST /api/v1/ota/status/`.
 *
 * - `open`: the device id is enough.
 * - `product_key`: one rotating secret per product (body `token`, `Authorization: Bearer`,
 *   `X-OTA-Key`); the previous key keeps working until retired.
 * - `device_token`: one operator-issued secret per device; no auto-registration.
 *
 * A failing credential is a business outcome (200, `unknown_device`) and writes NOTHING: no
 * device record appears or changes, no deployment counter moves. Secrets are never returned.
 */
import { createHash } from 'node:crypto';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;
const deployments: Record<string, string> = {};
const builds: Record<string, number> = {};

/** A product with one released build deployed to 100 %, so every authorised check is an offer. */
async function productWithDeployment(productId: string, body: Record<string, unknown>) {
  await createProduct(t.api, productId, body);
  const r = await publishRelease(t.platform, {
    product: productId,
    version: '2.0.0',
    files: { 'app.bin': buildEspImage({ chip: 'esp32', version: '2.0.0', fill: Object.keys(builds).length + 1 }) },
    manifest: { release: true },
  });
  expect(r.status).toBe('accepted');
  builds[productId] = r.build_number;
  const dep = await t.api.post(`/admin/v1/products/${productId}/deployments`, { build: r.build_number, percentage: 100 });
  expect(dep.status).toBe(201);
  deployments[productId] = dep.body.deployment_id;
}

beforeAll(async () => {
  t = await startTestPlatform();
  await productWithDeployment('sec-open', { security_mode: 'open' });
  await productWithDeployment('sec-key', { security_mode: 'product_key' });
  await productWithDeployment('sec-nokey', { security_mode: 'product_key' }); // no key ever issued
  await productWithDeployment('sec-tok', { security_mode: 'device_token', auto_register: true });
}, 60_000);
afterAll(async () => {
  await t?.platform.stop();
});

const check = (body: Record<string, unknown>, headers?: Record<string, string>) => t.api.post('/api/v1/ota/check/', body, headers);
const report = (body: Record<string, unknown>, headers?: Record<string, string>) => t.api.post('/api/v1/ota/status/', body, headers);
const devicePath = (p: string, d: string) => `/admin/v1/products/${p}/devices/${encodeURIComponent(d)}`;
const getDevice = (p: string, d: string) => t.api.get(devicePath(p, d));
const counts = async (p: string) => (await t.api.get(`/admin/v1/products/${p}/deployments/${deployments[p]}`)).body.counts;
const rotateKey = async (p: string) => {
  const r = await t.api.post(`/admin/v1/products/${p}/key`);
  expect(r.status).toBe(201);
  expect(typeof r.body.product_key).toBe('string');
  return r.body.product_key as string;
};
const issueToken = async (p: string, d: string) => {
  const r = await t.api.post(`${devicePath(p, d)}/token`);
  expect(r.status).toBe(201);
  expect(r.body.token).toMatch(/^[A-Za-z0-9]{24}$/);
  return r.body.token as string;
};
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The check was refused as the protocol documents it. */
function expectRefusedCheck(r: { status: number; body: any }) {
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ status: 'unknown_device', update_available: false, update: false });
  expect(r.body.url).toBeUndefined();
  expect(r.body.build_number).toBeUndefined();
}
/** The check was accepted: the deployment's build is offered. */
function expectAcceptedCheck(r: { status: number; body: any }, p: string) {
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ status: 'update_available', update_available: true, build_number: builds[p], deployment_id: deployments[p] });
}

describe('open', () => {
  it('the device id alone is enough: the check is answered and the device registers', async () => {
    const before = await counts('sec-open');
    expectAcceptedCheck(await check({ product: 'sec-open', device_id: 'open-1', version: '1.0.0' }), 'sec-open');
    expect((await getDevice('sec-open', 'open-1')).body).toMatchObject({ device_id: 'open-1', current_version: '1.0.0' });
    expect((await counts('sec-open')).offered).toBe(before.offered + 1);
  });

  it('the device id alone is enough for a status report', async () => {
    const r = await report({ product: 'sec-open', device_id: 'open-1', build_number: builds['sec-open'], status: 'downloading' });
    expect(r.body).toMatchObject({ ok: true, result: 'recorded' });
  });

  it('a stray credential is ignored in open mode', async () => {
    expectAcceptedCheck(await check({ product: 'sec-open', device_id: 'open-2', token: 'whatever' }, { authorization: 'Bearer nonsense' }), 'sec-open');
  });
});

describe('product_key', () => {
  let key1: string;
  let key2: string;

  it('before any key is issued every device is refused, and nothing is written', async () => {
    const before = await counts('sec-nokey');
    expectRefusedCheck(await check({ product: 'sec-nokey', device_id: 'nokey-1', version: '1.0.0' }));
    expectRefusedCheck(await check({ product: 'sec-nokey', device_id: 'nokey-1', token: 'pk_guess' }));
    expect((await getDevice('sec-nokey', 'nokey-1')).status).toBe(404);
    expect(await counts('sec-nokey')).toEqual(before);
  });

  it('rotating the key returns it once (201 { product_key })', async () => {
    key1 = await rotateKey('sec-key');
    expect(key1.length).toBeGreaterThanOrEqual(24);
    expect((await t.api.get('/admin/v1/products/sec-key')).body).toMatchObject({ security_mode: 'product_key', product_key_set: true });
  });

  it('no credential → 200 unknown_device; the device record does not appear and counters do not move', async () => {
    const before = await counts('sec-key');
    expectRefusedCheck(await check({ product: 'sec-key', device_id: 'key-none', version: '1.0.0' }));
    expect((await getDevice('sec-key', 'key-none')).status).toBe(404);
    expect(await counts('sec-key')).toEqual(before);
  });

  it('a wrong key (body, Bearer, X-OTA-Key) → 200 unknown_device, nothing written', async () => {
    const before = await counts('sec-key');
    const id = 'key-wrong';
    expectRefusedCheck(await check({ product: 'sec-key', device_id: id, token: `${key1}x` }));
    expectRefusedCheck(await check({ product: 'sec-key', device_id: id }, { authorization: 'Bearer pk_notthekey' }));
    expectRefusedCheck(await check({ product: 'sec-key', device_id: id }, { 'x-ota-key': key1.slice(0, -1) }));
    expect((await getDevice('sec-key', id)).status).toBe(404);
    expect(await counts('sec-key')).toEqual(before);
  });

  it('the key is accepted in the body token', async () => {
    expectAcceptedCheck(await check({ product: 'sec-key', device_id: 'key-body', version: '1.0.0', token: key1 }), 'sec-key');
    expect((await getDevice('sec-key', 'key-body')).status).toBe(200);
  });

  it('the key is accepted as Authorization: Bearer', async () => {
    expectAcceptedCheck(await check({ product: 'sec-key', device_id: 'key-bearer', version: '1.0.0' }, { authorization: `Bearer ${key1}` }), 'sec-key');
    expect((await getDevice('sec-key', 'key-bearer')).status).toBe(200);
  });

  it('the key is accepted as X-OTA-Key', async () => {
    expectAcceptedCheck(await check({ product: 'sec-key', device_id: 'key-header', version: '1.0.0' }, { 'X-OTA-Key': key1 }), 'sec-key');
    expect((await getDevice('sec-key', 'key-header')).status).toBe(200);
  });

  it('a known device with a wrong key: its record does not change and counters do not move', async () => {
    const before = (await getDevice('sec-key', 'key-body')).body;
    const c = await counts('sec-key');
    expectRefusedCheck(
      await check({ product: 'sec-key', device_id: 'key-body', version: '9.9.9', hw: { board: 'other' }, channel: 'beta', token: 'pk_wrong' }),
    );
    expect((await getDevice('sec-key', 'key-body')).body).toEqual(before);
    expect(await counts('sec-key')).toEqual(c);
  });

  it('status reports: a wrong key → 200 result unknown_device, nothing written; the key → recorded', async () => {
    const status = { product: 'sec-key', device_id: 'key-body', build_number: builds['sec-key'], status: 'failed', message: 'x' };
    const before = (await getDevice('sec-key', 'key-body')).body;
    const c = await counts('sec-key');
    for (const [body, headers] of [
      [status, undefined],
      [{ ...status, token: 'pk_wrong' }, undefined],
      [status, { authorization: 'Bearer pk_wrong' }],
      [status, { 'x-ota-key': 'pk_wrong' }],
    ] as const) {
      const r = await report(body, headers);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: false, result: 'unknown_device' });
    }
    expect((await getDevice('sec-key', 'key-body')).body).toEqual(before);
    expect(await counts('sec-key')).toEqual(c);
    // A wrong key for a device nobody has seen creates nothing either.
    expect((await report({ ...status, device_id: 'key-ghost', token: 'pk_wrong' })).body.result).toBe('unknown_device');
    expect((await getDevice('sec-key', 'key-ghost')).status).toBe(404);

    const ok = await report({ ...status, status: 'downloading' }, { 'x-ota-key': key1 });
    expect(ok.body).toMatchObject({ ok: true, result: 'recorded' });
    expect((await counts('sec-key')).downloading).toBe(c.downloading + 1);
  });

  it('after a second rotation both the new and the previous key work', async () => {
    key2 = await rotateKey('sec-key');
    expect(key2).not.toBe(key1);
    expect((await t.api.get('/admin/v1/products/sec-key')).body.previous_product_key_accepted).toBe(true);
    expectAcceptedCheck(await check({ product: 'sec-key', device_id: 'key-rot-new', token: key2 }), 'sec-key');
    expectAcceptedCheck(await check({ product: 'sec-key', device_id: 'key-rot-old', token: key1 }), 'sec-key');
    expect(
      (
        await report(
          { product: 'sec-key', device_id: 'key-rot-old', build_number: builds['sec-key'], status: 'downloading' },
          { authorization: `Bearer ${key1}` },
        )
      ).body.result,
    ).toBe('recorded');
  });

  it('DELETE …/key/previous retires the previous key: it is then refused and writes nothing; the current key still works', async () => {
    const del = await t.api.call('DELETE', '/admin/v1/products/sec-key/key/previous');
    expect(del.status).toBe(200);
    expect((await t.api.get('/admin/v1/products/sec-key')).body.previous_product_key_accepted).toBe(false);
    const c = await counts('sec-key');
    const known = (await getDevice('sec-key', 'key-rot-old')).body;
    expectRefusedCheck(await check({ product: 'sec-key', device_id: 'key-retired', token: key1 }));
    expectRefusedCheck(await check({ product: 'sec-key', device_id: 'key-rot-old', version: '3.0.0' }, { 'x-ota-key': key1 }));
    const st = await report(
      { product: 'sec-key', device_id: 'key-rot-old', build_number: builds['sec-key'], status: 'success' },
      { authorization: `Bearer ${key1}` },
    );
    expect(st.body).toMatchObject({ ok: false, result: 'unknown_device' });
    expect((await getDevice('sec-key', 'key-retired')).status).toBe(404);
    expect((await getDevice('sec-key', 'key-rot-old')).body).toEqual(known);
    expect(await counts('sec-key')).toEqual(c);
    expectAcceptedCheck(await check({ product: 'sec-key', device_id: 'key-current', token: key2 }), 'sec-key');
  });

  it('a third rotation retires the first key for good (only one previous key is kept)', async () => {
    const key3 = await rotateKey('sec-key');
    expectAcceptedCheck(await check({ product: 'sec-key', device_id: 'key-3a', token: key3 }), 'sec-key');
    expectAcceptedCheck(await check({ product: 'sec-key', device_id: 'key-3b', token: key2 }), 'sec-key');
    expectRefusedCheck(await check({ product: 'sec-key', device_id: 'key-3c', token: key1 }));
    expect((await getDevice('sec-key', 'key-3c')).status).toBe(404);
  });
});

describe('device_token', () => {
  let tokenA: string;
  let tokenB: string;

  it('auto-registration is off for device_token products (even when asked for)', async () => {
    expect((await t.api.get('/admin/v1/products/sec-tok')).body).toMatchObject({ security_mode: 'device_token', auto_register: false });
  });

  it('a device without a token is refused: 200 unknown_device, no device record appears, counters do not move', async () => {
    const c = await counts('sec-tok');
    expectRefusedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:01', version: '1.0.0' }));
    expectRefusedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:01', token: 'A'.repeat(24) }));
    expect((await getDevice('sec-tok', 'AA:BB:CC:00:10:01')).status).toBe(404);
    expect((await report({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:01', build_number: builds['sec-tok'], status: 'success' })).body.result).toBe(
      'unknown_device',
    );
    expect((await getDevice('sec-tok', 'AA:BB:CC:00:10:01')).status).toBe(404);
    expect(await counts('sec-tok')).toEqual(c);
  });

  it('issuing a token (201 { token }, 24 chars, shown once) creates the device with token_set', async () => {
    tokenA = await issueToken('sec-tok', 'aa-bb-cc-00-10-0a');
    tokenB = await issueToken('sec-tok', 'AA:BB:CC:00:10:0B');
    expect(tokenA).not.toBe(tokenB);
    expect((await getDevice('sec-tok', 'AA:BB:CC:00:10:0A')).body).toMatchObject({ device_id: 'AA:BB:CC:00:10:0A', token_set: true });
  });

  it('the device’s own token is accepted (body, Bearer, X-OTA-Key)', async () => {
    expectAcceptedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0A', version: '1.0.0', token: tokenA }), 'sec-tok');
    expectAcceptedCheck(
      await check({ product: 'sec-tok', device_id: 'aa:bb:cc:00:10:0a', version: '1.0.0' }, { authorization: `Bearer ${tokenA}` }),
      'sec-tok',
    );
    expectAcceptedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0A', version: '1.0.0' }, { 'x-ota-key': tokenA }), 'sec-tok');
    expect((await getDevice('sec-tok', 'AA:BB:CC:00:10:0A')).body.current_version).toBe('1.0.0');
  });

  it('another device’s token is refused, and the device record does not change', async () => {
    const before = (await getDevice('sec-tok', 'AA:BB:CC:00:10:0A')).body;
    const c = await counts('sec-tok');
    expectRefusedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0A', version: '1.5.0', token: tokenB }));
    expectRefusedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0A', version: '1.5.0' }, { authorization: `Bearer ${tokenB}` }));
    // Nor can a device use its own token under another device's id.
    expectRefusedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0C', token: tokenA }));
    expect((await getDevice('sec-tok', 'AA:BB:CC:00:10:0C')).status).toBe(404);
    expect((await getDevice('sec-tok', 'AA:BB:CC:00:10:0A')).body).toEqual(before);
    expect(await counts('sec-tok')).toEqual(c);
  });

  it('status reports: another device’s token → 200 result unknown_device, nothing written; its own → recorded', async () => {
    const base = { product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0A', build_number: builds['sec-tok'] };
    const before = (await getDevice('sec-tok', 'AA:BB:CC:00:10:0A')).body;
    const c = await counts('sec-tok');
    const refused = await report({ ...base, status: 'failed', message: 'spoofed', token: tokenB });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ ok: false, result: 'unknown_device' });
    expect((await report({ ...base, status: 'success' }, { 'x-ota-token': tokenB })).body.result).toBe('unknown_device');
    expect((await report({ ...base, status: 'success' })).body.result).toBe('unknown_device');
    expect((await getDevice('sec-tok', 'AA:BB:CC:00:10:0A')).body).toEqual(before);
    expect(await counts('sec-tok')).toEqual(c);

    const ok = await report({ ...base, status: 'success' }, { authorization: `Bearer ${tokenA}` });
    expect(ok.body).toMatchObject({ ok: true, result: 'recorded' });
    expect((await getDevice('sec-tok', 'AA:BB:CC:00:10:0A')).body.current_build).toBe(builds['sec-tok']);
    expect((await counts('sec-tok')).succeeded).toBe(c.succeeded + 1);
  });

  it('re-issuing a device token retires the old one', async () => {
    const old = await issueToken('sec-tok', 'AA:BB:CC:00:10:0D');
    expectAcceptedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0D', version: '1.0.0', token: old }), 'sec-tok');
    const fresh = await issueToken('sec-tok', 'AA:BB:CC:00:10:0D');
    expectRefusedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0D', version: '1.0.0', token: old }));
    expectAcceptedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0D', version: '1.0.0', token: fresh }), 'sec-tok');
  });

  it('the product key is not a device token', async () => {
    const pk = await rotateKey('sec-tok');
    expectRefusedCheck(await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0B', token: pk }));
  });
});

describe('secrets are never returned', () => {
  it('GET product: no key and no hash in the JSON', async () => {
    const key = await rotateKey('sec-key');
    const r = await t.api.get('/admin/v1/products/sec-key');
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(key);
    expect(r.text).not.toContain(sha256(key));
    expect(r.text).not.toMatch(/hash/i);
    expect(r.text).not.toMatch(/"product_key"\s*:/);
    expect(r.text).not.toMatch(/[0-9a-f]{64}/);
  });

  it('GET device: no token and no hash in the JSON', async () => {
    const token = await issueToken('sec-tok', 'AA:BB:CC:00:10:0E');
    const r = await getDevice('sec-tok', 'AA:BB:CC:00:10:0E');
    expect(r.status).toBe(200);
    expect(r.body.token_set).toBe(true);
    expect(r.text).not.toContain(token);
    expect(r.text).not.toContain(sha256(token));
    expect(r.text).not.toMatch(/hash/i);
    expect(r.text).not.toMatch(/"token"\s*:/);
    expect(r.text).not.toMatch(/[0-9a-f]{64}/);
  });

  it('check and status answers never echo the presented secret', async () => {
    const token = await issueToken('sec-tok', 'AA:BB:CC:00:10:0F');
    const c = await check({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0F', version: '1.0.0', token });
    expectAcceptedCheck(c, 'sec-tok');
    expect(c.text).not.toContain(token);
    const s = await report({ product: 'sec-tok', device_id: 'AA:BB:CC:00:10:0F', build_number: builds['sec-tok'], status: 'downloading', token });
    expect(s.text).not.toContain(token);
  });
});

describe('hardware-safe input on the native routes', () => {
  it('malformed check/status bodies → 400 JSON, nothing written (even with a valid credential)', async () => {
    const key = await rotateKey('sec-key');
    for (const [path, body] of [
      ['/api/v1/ota/check/', '{"product":"sec-key",'],
      ['/api/v1/ota/check/', { product: 'sec-key', device_id: 'bad id with spaces', token: key }],
      ['/api/v1/ota/check/', { product: 'sec-key', token: key }],
      ['/api/v1/ota/status/', { product: 'sec-key', device_id: 'key-malformed', build_number: 'one', status: 'success', token: key }],
      ['/api/v1/ota/status/', { product: 'sec-key', device_id: 'key-malformed', build_number: 1, status: 'exploded', token: key }],
    ] as const) {
      const r = await t.api.post(path, body, { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
    }
    expect((await getDevice('sec-key', 'key-malformed')).status).toBe(404);
  });
});
