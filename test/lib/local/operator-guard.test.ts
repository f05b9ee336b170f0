/**
 * The local operator API cannot be driven by a web page: a cross-site request (foreign Origin),
 * a non-JSON body (what a cross-site form or `text/plain` fetch can send without a preflight)
 * and a DNS-rebinding request (foreign Host) are refused before any handler runs. otactl and
 * device routes are unaffected. Real HTTP against the running platform.
 */
import { request } from 'node:http';
import { buildEspImage } from '../../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../../support/platform';
import { publishRelease } from '../../support/release';

jest.setTimeout(30_000);
let t: TestPlatform;
let port: number;

beforeAll(async () => {
  t = await startTestPlatform();
  port = Number(new URL(t.platform.apiUrl).port);
  await createProduct(t.api, 'guard');
  await publishRelease(t.platform, {
    product: 'guard',
    version: '1.0.0',
    files: { 'app.bin': buildEspImage({ version: '1.0.0' }) },
    manifest: { release: true },
  });
});
afterAll(() => t?.platform.stop());

const deployments = async () => (await t.api.get('/admin/v1/products/guard/deployments')).body.items as unknown[];

/** A raw HTTP request with any Host header (fetch will not send a foreign one). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('operator API guards', () => {
  it('expect a cross-site text/plain POST creating a deployment to be refused, and nothing created', async () => {
    // What `fetch(url, { method: 'POST', mode: 'no-cors', body: '{"build":1}' })` from a web page sends.
    const r = await t.api.post('/admin/v1/products/guard/deployments', '{"build":1,"percentage":100}', {
      'content-type': 'text/plain;charset=UTF-8',
      origin: 'https://evil.example',
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('origin_not_allowed');
    expect(await deployments()).toEqual([]);
  });

  it('expect a same-host text/plain POST to be refused 415 (no JSON without a CORS preflight)', async () => {
    const r = await t.api.post('/admin/v1/products/guard/deployments', '{"build":1,"percentage":100}', { 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('unsupported_media_type');
    expect(await deployments()).toEqual([]);
  });

  it.each(['null', 'http://127.0.0.1:1', 'https://127.0.0.1', 'http://evil.example'])('expect Origin %s to be refused', async (origin) => {
    const r = await t.api.post('/admin/v1/products/guard/key', {}, { origin });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('origin_not_allowed');
  });

  it('expect a DNS-rebinding request (foreign Host) to be refused, reads included', async () => {
    const r = await raw('GET', '/admin/v1/products/guard', { host: `attacker.example:${port}` });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('host_not_allowed');
    const w = await raw(
      'POST',
      '/admin/v1/products/guard/deployments',
      { host: `attacker.example:${port}`, 'content-type': 'application/json' },
      '{"build":1,"percentage":100}',
    );
    expect(w.status).toBe(403);
    expect(await deployments()).toEqual([]);
  });

  it("expect the platform's own origins and hosts to work (a console served from the platform)", async () => {
    for (const h of ['127.0.0.1', 'localhost', '[::1]']) {
      const r = await raw('GET', '/admin/v1/products/guard', { host: `${h}:${port}`, origin: `http://${h}:${port}` });
      expect(r.status).toBe(200);
    }
    const created = await t.api.post('/admin/v1/products/guard/deployments', { build: 1, percentage: 100 }, { origin: `http://localhost:${port}` });
    expect(created.status).toBeLessThan(300);
    expect(await deployments()).toHaveLength(1);
  });

  it('expect the IoTaaP multipart upload to stay multipart but be refused cross-origin', async () => {
    const form = new FormData();
    form.append('device_id', 'dev-1');
    const cross = await fetch(`${t.platform.apiUrl}/v1/ota/device`, { method: 'POST', body: form, headers: { origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    const same = await fetch(`${t.platform.apiUrl}/v1/ota/device`, { method: 'POST', body: form });
    expect(same.status).not.toBe(403);
    expect(same.status).not.toBe(415);
  });

  it('expect the local S3 credentials only for the platform own Host and Origin', async () => {
    const own = await t.api.get('/local/s3-credentials');
    expect(own.status).toBe(200);
    expect(own.body).toEqual(t.platform.s3Credentials);
    expect((await raw('GET', '/local/s3-credentials', { host: `attacker.example:${port}` })).status).toBe(403);
    expect((await t.api.get('/local/s3-credentials', { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('expect device routes to answer any Host (a LAN device uses the LAN address) and no Origin rule', async () => {
    const r = await raw(
      'POST',
      '/api/v1/ota/check',
      { host: `192.168.1.20:${port}`, 'content-type': 'application/json' },
      JSON.stringify({ product: 'guard', device_id: 'AA:BB:CC:00:00:09', version: '0.1.0' }),
    );
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('update_available');
  });
});
