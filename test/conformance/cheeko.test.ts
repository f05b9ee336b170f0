/**
 * Conformance: the Cheeko toy OTA contract (seed 002, "OTA Endpoints", /toy/ota/) over real HTTP
 * against the local platform. One test per documented behaviour, named after it:
 * - POST /toy/ota/   boot check + registration, raw `{ device, firmware | null, serverTime }`,
 *                    400 `{ code, msg }` for a missing/invalid MAC, 200 `{ error }` on internal errors;
 * - POST /toy/ota/activate   200 `success` (plain text) or 202 with an empty body;
 * - GET /toy/ota/?type=      `{ code: 0, msg: "success", data: { status, latestVersions, serverTime } }`.
 * Product binding (design): `protocols.cheeko.application` (+ `default`); firmware per board via the
 * manifest's `boards`; offers come from active deployments; manifest `force`/`notes` → `force`/`remark`.
 */
import { request as httpRequest } from 'node:http';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../lambdas/shared/aws';
import { CheckService } from '../../lambdas/shared/check-service';
import { DeviceStore, devicePk } from '../../lambdas/shared/store/device-store';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;

/** Every image published, by `<product>@<version>`, to compare downloads byte for byte. */
const images = new Map<string, Buffer>();
let productKey = '';

async function release(product: string, chip: 'esp32' | 'esp32s3', version: string, fill: number, manifest: Record<string, unknown>, deploy = true) {
  const image = buildEspImage({ chip, version, fill });
  images.set(`${product}@${version}`, image);
  const r = await publishRelease(t.platform, { product, version, files: { 'app.bin': image }, manifest: { release: true, ...manifest } });
  if (r.status !== 'accepted') throw new Error(`publish ${product} ${version}: ${JSON.stringify(r)}`);
  if (deploy) {
    const d = await t.api.post(`/admin/v1/products/${product}/deployments`, { build: r.build_number, percentage: 100 });
    if (d.status !== 201) throw new Error(`deploy ${product} ${version}: ${d.status} ${d.text}`);
  }
}

beforeAll(async () => {
  t = await startTestPlatform();
  // The default Cheeko product: one build per board type.
  await createProduct(t.api, 'cheeko', { chip: 'esp32s3', auto_register: true, protocols: { cheeko: { application: 'cheeko', default: true } } });
  await release('cheeko', 'esp32s3', '1.0.9', 1, { boards: ['esp32'], notes: 'esp32 build' });
  await release('cheeko', 'esp32s3', '1.0.8', 2, { boards: ['esp32c3'], force: true, notes: 'c3 hotfix' });
  await release('cheeko', 'esp32s3', '1.1.0', 3, { boards: ['esp32s3'], notes: 'Bug fixes and stability improvements' });
  // Selected by body/query `application`: a build without `boards` (any board).
  await createProduct(t.api, 'plush', { chip: 'esp32s3', auto_register: true, protocols: { cheeko: { application: 'plush' } } });
  await release('plush', 'esp32s3', '2.0.0', 4, {});
  // Released firmware but no deployment.
  await createProduct(t.api, 'quiet', { chip: 'esp32', auto_register: true, protocols: { cheeko: { application: 'quiet' } } });
  await release('quiet', 'esp32', '5.0.0', 5, {}, false);
  // product_key mode.
  await createProduct(t.api, 'keyed', { chip: 'esp32', auto_register: true, security_mode: 'product_key', protocols: { cheeko: { application: 'keyed' } } });
  await release('keyed', 'esp32', '3.0.0', 6, {});
  const k = await t.api.post('/admin/v1/products/keyed/key');
  expect(k.status).toBe(201);
  productKey = k.body.product_key;
});
afterAll(async () => {
  await t?.platform.stop();
});
afterEach(() => {
  jest.restoreAllMocks();
});

const ota = (body: unknown, headers: Record<string, string> = {}, path = '/toy/ota/') => t.api.post(path, body, headers);
const activate = (body: unknown, headers: Record<string, string> = {}) => t.api.post('/toy/ota/activate', body, headers);
const adminDevice = (product: string, mac: string) => t.api.get(`/admin/v1/products/${product}/devices/${encodeURIComponent(mac)}`);
const setActive = (product: string, mac: string, active: boolean) =>
  documentClient().send(
    new UpdateCommand({
      TableName: t.platform.tableNames.DEVICES_TABLE,
      Key: { pk: devicePk(product, mac) },
      UpdateExpression: 'SET active = :a',
      ExpressionAttributeValues: { ':a': active },
    }),
  );
/** POSTs on a fresh connection that is closed afterwards; resolves the status (the server may answer before the body is sent). */
const postOnOwnConnection = (path: string, body: Buffer, headers: Record<string, string>) =>
  new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      `${t.platform.apiUrl}${path}`,
      { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    // EPIPE/ECONNRESET while still sending is expected once the server has answered; fail only if no answer follows.
    req.on('error', (e) => setTimeout(() => reject(e), 1000));
    req.end(body);
  });
const expectServerTimeNow = (ms: unknown) => {
  expect(Number.isInteger(ms)).toBe(true);
  expect(Math.abs((ms as number) - Date.now())).toBeLessThan(10_000);
};

describe('POST /toy/ota/ — request', () => {
  it('reads the MAC from the Device-Id header and registers the device with everything it reports', async () => {
    const body = { version: '1.0.5', board: 'esp32s3', flash_size: 8388608, chip_model_name: 'ESP32-S3', chip_info: 'rev3', application: 'cheeko', ota: {} };
    const r = await ota(body, { 'Device-Id': 'AA:BB:CC:00:01:01' });
    expect(r.status).toBe(200);
    expect(r.body.device).toEqual({ mac: 'AA:BB:CC:00:01:01', currentVersion: '1.0.5', board: 'esp32s3', autoUpdate: true });
    const d = await adminDevice('cheeko', 'AA:BB:CC:00:01:01');
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ device_id: 'AA:BB:CC:00:01:01', current_version: '1.0.5', board: 'esp32s3', active: true });
    expect(d.body.info).toEqual({ flash_size: 8388608, chip_model_name: 'ESP32-S3', chip_info: 'rev3', application: 'cheeko' });
  });

  it('the Device-Id header takes precedence over body mac / mac_address', async () => {
    const r = await ota({ mac: 'AA:BB:CC:00:02:02', mac_address: 'AA:BB:CC:00:02:03', version: '1.0.5' }, { 'Device-Id': 'AA:BB:CC:00:02:01' });
    expect(r.status).toBe(200);
    expect(r.body.device.mac).toBe('AA:BB:CC:00:02:01');
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:02:01')).status).toBe(200);
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:02:02')).status).toBe(404);
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:02:03')).status).toBe(404);
  });

  it('falls back to body mac when the Device-Id header is absent (mac before mac_address)', async () => {
    const r = await ota({ mac: 'AA:BB:CC:00:03:01', mac_address: 'AA:BB:CC:00:03:02', version: '1.0.5' });
    expect(r.status).toBe(200);
    expect(r.body.device.mac).toBe('AA:BB:CC:00:03:01');
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:03:01')).status).toBe(200);
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:03:02')).status).toBe(404);
  });

  it('falls back to body mac_address when neither Device-Id nor mac is sent', async () => {
    const r = await ota({ mac_address: 'AA:BB:CC:00:04:01', version: '1.0.5' });
    expect(r.status).toBe(200);
    expect(r.body.device.mac).toBe('AA:BB:CC:00:04:01');
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:04:01')).status).toBe(200);
  });

  it('Client-Id is optional and does not change the device identity', async () => {
    const withClient = await ota({ version: '1.0.5' }, { 'Device-Id': 'AA:BB:CC:00:05:01', 'Client-Id': 'some-client-uuid' });
    expect(withClient.status).toBe(200);
    expect(withClient.body.device.mac).toBe('AA:BB:CC:00:05:01');
    const without = await ota({ version: '1.0.5' }, { 'Device-Id': 'AA:BB:CC:00:05:01' });
    expect(without.status).toBe(200);
    expect(without.body.device.mac).toBe('AA:BB:CC:00:05:01');
    expect((await adminDevice('cheeko', 'some-client-uuid')).status).toBe(404);
  });

  it('is served at /toy/ota without the trailing slash too', async () => {
    const r = await ota({ version: '1.0.5', board: 'esp32s3' }, { 'Device-Id': 'AA:BB:CC:00:06:01' }, '/toy/ota');
    expect(r.status).toBe(200);
    expect(r.body.device).toEqual({ mac: 'AA:BB:CC:00:06:01', currentVersion: '1.0.5', board: 'esp32s3', autoUpdate: true });
    expect(r.body.firmware.version).toBe('1.1.0');
  });

  it('updates a registered device: version, board and info on the next boot', async () => {
    const mac = 'AA:BB:CC:00:07:01';
    await ota({ version: '1.0.5', board: 'esp32s3', flash_size: 4194304, chip_model_name: 'ESP32-S3', application: 'cheeko' }, { 'Device-Id': mac });
    const r = await ota(
      { version: '1.1.0', board: 'esp32c3', flash_size: 8388608, chip_model_name: 'ESP32-C3', chip_info: 'rev4', application: 'cheeko' },
      { 'Device-Id': mac },
    );
    expect(r.status).toBe(200);
    const d = await adminDevice('cheeko', mac);
    expect(d.body).toMatchObject({ current_version: '1.1.0', board: 'esp32c3' });
    expect(d.body.info).toEqual({ flash_size: 8388608, chip_model_name: 'ESP32-C3', chip_info: 'rev4', application: 'cheeko' });
  });

  it('all body fields are optional: a malformed one is ignored, the valid ones are still used', async () => {
    const mac = 'AA:BB:CC:00:09:01';
    const r = await ota(
      { version: '1.0.5', board: 'esp32s3', flash_size: '8MB', chip_model_name: 'ESP32-S3', chip_info: { rev: 3 }, ota: 'x' },
      { 'Device-Id': mac },
    );
    expect(r.status).toBe(200);
    expect(r.body.device).toMatchObject({ currentVersion: '1.0.5', board: 'esp32s3' });
    expect(r.body.firmware.version).toBe('1.1.0');
    const d = await adminDevice('cheeko', mac);
    expect(d.body).toMatchObject({ current_version: '1.0.5', board: 'esp32s3' });
    expect(d.body.info).toEqual({ chip_model_name: 'ESP32-S3' });
  });

  it('normalises the MAC in any common spelling to AA:BB:CC:DD:EE:FF', async () => {
    const r = await ota({ version: '1.0.5' }, { 'Device-Id': 'aa-bb-cc-00-08-0f' });
    expect(r.status).toBe(200);
    expect(r.body.device.mac).toBe('AA:BB:CC:00:08:0F');
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:08:0F')).status).toBe(200);
    const bodyMac = await ota({ mac: 'aabbcc00080e' });
    expect(bodyMac.body.device.mac).toBe('AA:BB:CC:00:08:0E');
  });
});

describe('POST /toy/ota/ — response', () => {
  it('answers the raw payload { device, firmware, serverTime } without the { code, msg, data } envelope', async () => {
    const r = await ota({ version: '1.0.5', board: 'esp32s3' }, { 'Device-Id': 'AA:BB:CC:00:10:01' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(Object.keys(r.body).sort()).toEqual(['device', 'firmware', 'serverTime']);
  });

  it('device: mac (normalised), currentVersion (as reported), board, autoUpdate', async () => {
    const mac = 'AA:BB:CC:00:11:01';
    const first = await ota({ version: '1.0.5', board: 'esp32s3' }, { 'Device-Id': 'aa:bb:cc:00:11:01' });
    expect(first.body.device).toEqual({ mac, currentVersion: '1.0.5', board: 'esp32s3', autoUpdate: true });
    // After the update the device boots reporting its new version: that is what the reply echoes.
    const second = await ota({ version: '1.1.0', board: 'esp32s3' }, { 'Device-Id': mac });
    expect(second.body.device).toEqual({ mac, currentVersion: '1.1.0', board: 'esp32s3', autoUpdate: true });
  });

  it('serverTime: timestamp in milliseconds close to now, timezone, offset in minutes', async () => {
    const r = await ota({ version: '1.0.5' }, { 'Device-Id': 'AA:BB:CC:00:12:01' });
    expect(r.body.serverTime).toEqual({ timestamp: expect.any(Number), timezone: 'UTC', offset: 0 });
    expectServerTimeNow(r.body.serverTime.timestamp);
  });

  it('firmware: version, url, size, force 0, name <product>-<version>, remark = release notes', async () => {
    const r = await ota({ version: '1.0.5', board: 'esp32s3' }, { 'Device-Id': 'AA:BB:CC:00:13:01' });
    expect(r.status).toBe(200);
    expect(r.body.firmware).toEqual({
      version: '1.1.0',
      url: expect.any(String),
      size: images.get('cheeko@1.1.0')!.length,
      force: 0,
      name: 'cheeko-1.1.0',
      remark: 'Bug fixes and stability improvements',
    });
  });

  it('firmware.url downloads the exact bytes through the local CDN edge', async () => {
    const r = await ota({ version: '1.0.5', board: 'esp32s3' }, { 'Device-Id': 'AA:BB:CC:00:14:01' });
    const url: string = r.body.firmware.url;
    expect(url.startsWith(t.platform.cdnUrl)).toBe(true);
    const download = await fetch(url);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.equals(images.get('cheeko@1.1.0')!)).toBe(true);
    expect(bytes.length).toBe(r.body.firmware.size);
  });

  it('firmware.force is 1 for a build released with manifest force: true', async () => {
    const r = await ota({ version: '1.0.5', board: 'esp32c3' }, { 'Device-Id': 'AA:BB:CC:00:15:01' });
    expect(r.body.firmware).toMatchObject({ version: '1.0.8', force: 1, name: 'cheeko-1.0.8', remark: 'c3 hotfix' });
  });

  it('firmware is chosen per board: a device gets only builds made for its board', async () => {
    const esp32 = await ota({ version: '1.0.5', board: 'esp32' }, { 'Device-Id': 'AA:BB:CC:00:16:01' });
    expect(esp32.body.firmware).toMatchObject({ version: '1.0.9', force: 0, remark: 'esp32 build' });
    const c3 = await ota({ version: '1.0.5', board: 'esp32c3' }, { 'Device-Id': 'AA:BB:CC:00:16:02' });
    expect(c3.body.firmware.version).toBe('1.0.8');
    const other = await ota({ version: '1.0.5', board: 'esp32c6' }, { 'Device-Id': 'AA:BB:CC:00:16:03' });
    expect(other.status).toBe(200);
    expect(other.body.firmware).toBeNull();
  });

  it('a build without boards goes to any board', async () => {
    for (const [i, board] of ['esp32', 'esp32s3', 'esp32c3'].entries()) {
      const r = await ota({ version: '1.0.0', board, application: 'plush' }, { 'Device-Id': `AA:BB:CC:00:17:0${i}` });
      expect(r.body.firmware).toMatchObject({ version: '2.0.0', name: 'plush-2.0.0', force: 0, remark: '' });
    }
  });

  it('firmware is null when the device already runs the latest version', async () => {
    const same = await ota({ version: '1.1.0', board: 'esp32s3' }, { 'Device-Id': 'AA:BB:CC:00:18:01' });
    expect(same.status).toBe(200);
    expect(same.body.firmware).toBeNull();
    const newer = await ota({ version: '9.9.9', board: 'esp32s3' }, { 'Device-Id': 'AA:BB:CC:00:18:02' });
    expect(newer.body.firmware).toBeNull();
  });

  it('firmware is null when no update is available (released build, no deployment)', async () => {
    const r = await ota({ version: '1.0.0', board: 'esp32', application: 'quiet' }, { 'Device-Id': 'AA:BB:CC:00:19:01' });
    expect(r.status).toBe(200);
    expect(r.body.firmware).toBeNull();
    expect((await adminDevice('quiet', 'AA:BB:CC:00:19:01')).body.current_version).toBe('1.0.0');
  });

  it('body application selects the bound product; an unknown application falls back to the default product', async () => {
    const plush = await ota({ version: '1.0.0', application: 'plush' }, { 'Device-Id': 'AA:BB:CC:00:1A:01' });
    expect(plush.body.firmware.name).toBe('plush-2.0.0');
    expect((await adminDevice('plush', 'AA:BB:CC:00:1A:01')).status).toBe(200);
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:1A:01')).status).toBe(404);
    const unknown = await ota({ version: '1.0.5', board: 'esp32s3', application: 'nobody' }, { 'Device-Id': 'AA:BB:CC:00:1A:02' });
    expect(unknown.body.firmware.name).toBe('cheeko-1.1.0');
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:1A:02')).status).toBe(200);
  });
});

describe('POST /toy/ota/ — errors', () => {
  it('missing MAC → 400 { code: 400, msg: "Device ID is required…" }', async () => {
    const r = await ota({ version: '1.0.5', board: 'esp32s3' });
    expect(r.status).toBe(400);
    expect(Object.keys(r.body).sort()).toEqual(['code', 'msg']);
    expect(r.body.code).toBe(400);
    expect(r.body.msg.startsWith('Device ID is required')).toBe(true);
    const noBody = await t.api.post('/toy/ota/');
    expect(noBody.status).toBe(400);
    expect(noBody.body.code).toBe(400);
  });

  it('invalid MAC format → 400 { code: 400, msg: "Invalid device ID format" }', async () => {
    for (const [body, headers] of [
      [{ version: '1.0.5' }, { 'Device-Id': 'not-a-mac' }],
      [{ mac: 'AA:BB:CC:DD:EE' }, {}],
      [{ mac_address: 'GG:BB:CC:DD:EE:FF' }, {}],
      // The header is read first: an invalid header is not rescued by a valid body mac.
      [{ mac: 'AA:BB:CC:00:20:01' }, { 'Device-Id': '12345' }],
    ] as const) {
      const r = await ota(body, headers);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ code: 400, msg: 'Invalid device ID format' });
    }
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:20:01')).status).toBe(404);
  });

  it('a malformed JSON body with a Device-Id header is treated as an empty body (200, device registered)', async () => {
    const r = await t.api.post('/toy/ota/', '{"version": "1.0.5", board', { 'Device-Id': 'AA:BB:CC:00:21:01', 'content-type': 'application/json' });
    expect(r.status).toBe(200);
    expect(r.body.device).toMatchObject({ mac: 'AA:BB:CC:00:21:01', currentVersion: '', board: '' });
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:21:01')).status).toBe(200);
    // Without a Device-Id the MAC is missing: 400, not a 5xx.
    const noMac = await t.api.post('/toy/ota/', '{"mac": "AA:BB:CC:00:21:02"', { 'content-type': 'application/json' });
    expect(noMac.status).toBe(400);
    expect(noMac.body.code).toBe(400);
  });

  it('internal error → 200 { "error": "<message>" }', async () => {
    const spy = jest.spyOn(CheckService.prototype, 'check').mockRejectedValueOnce(new Error('boom'));
    const r = await ota({ version: '1.0.5', board: 'esp32s3' }, { 'Device-Id': 'AA:BB:CC:00:22:01' });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ error: expect.any(String) });
    expect(r.body.error.length).toBeGreaterThan(0);
    // A store failure inside the check is an internal error too.
    jest.spyOn(DeviceStore.prototype, 'get').mockRejectedValueOnce(new Error('dynamo down'));
    const store = await ota({ version: '1.0.5' }, { 'Device-Id': 'AA:BB:CC:00:22:02' });
    expect(store.status).toBe(200);
    expect(store.body).toEqual({ error: expect.any(String) });
  });
});

describe('POST /toy/ota/ — product_key mode', () => {
  it('a request without the product key gets firmware: null and nothing is written', async () => {
    const mac = 'AA:BB:CC:00:30:01';
    const r = await ota({ version: '1.0.0', board: 'esp32', application: 'keyed' }, { 'Device-Id': mac });
    expect(r.status).toBe(200);
    expect(r.body.firmware).toBeNull();
    expect(r.body.device.mac).toBe(mac);
    expect((await adminDevice('keyed', mac)).status).toBe(404);
    const wrong = await ota({ version: '1.0.0', application: 'keyed', token: 'pk_wrong' }, { 'Device-Id': mac, 'X-OTA-Key': 'pk_wrong' });
    expect(wrong.body.firmware).toBeNull();
    expect((await adminDevice('keyed', mac)).status).toBe(404);
  });

  it('a request with the product key is registered and offered firmware', async () => {
    const viaHeader = await ota({ version: '1.0.0', application: 'keyed' }, { 'Device-Id': 'AA:BB:CC:00:31:01', 'X-OTA-Key': productKey });
    expect(viaHeader.body.firmware).toMatchObject({ version: '3.0.0', name: 'keyed-3.0.0' });
    expect((await adminDevice('keyed', 'AA:BB:CC:00:31:01')).status).toBe(200);
    const viaBody = await ota({ version: '1.0.0', application: 'keyed', token: productKey }, { 'Device-Id': 'AA:BB:CC:00:31:02' });
    expect(viaBody.body.firmware.version).toBe('3.0.0');
  });
});

describe('POST /toy/ota/activate', () => {
  it('registered, active device (MAC in Device-Id) → 200 plain text "success"', async () => {
    const mac = 'AA:BB:CC:00:40:01';
    await ota({ version: '1.0.5' }, { 'Device-Id': mac });
    const r = await activate({}, { 'Device-Id': mac });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.text).toBe('success');
  });

  it('registered, active device (MAC in body mac) → 200 "success"', async () => {
    const mac = 'AA:BB:CC:00:41:01';
    await ota({ version: '1.0.5' }, { 'Device-Id': mac });
    const r = await activate({ mac: 'aa:bb:cc:00:41:01' });
    expect(r.status).toBe(200);
    expect(r.text).toBe('success');
  });

  it('device not found → 202 with an empty body', async () => {
    const r = await activate({ mac: 'AA:BB:CC:00:42:01' });
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
  });

  it('missing MAC → 202 with an empty body', async () => {
    for (const r of [await activate({}), await t.api.post('/toy/ota/activate'), await activate({ mac: 'not-a-mac' })]) {
      expect(r.status).toBe(202);
      expect(r.text).toBe('');
    }
  });

  it('a deactivated device is not "registered and active" → 202 with an empty body', async () => {
    const mac = 'AA:BB:CC:00:43:01';
    await ota({ version: '1.0.5' }, { 'Device-Id': mac });
    await setActive('cheeko', mac, false);
    const r = await activate({}, { 'Device-Id': mac });
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
  });

  it('internal error → 202 with an empty body', async () => {
    const mac = 'AA:BB:CC:00:44:01';
    await ota({ version: '1.0.5' }, { 'Device-Id': mac });
    expect((await activate({}, { 'Device-Id': mac })).status).toBe(200);
    const spy = jest.spyOn(DeviceStore.prototype, 'get').mockRejectedValueOnce(new Error('boom'));
    const r = await activate({}, { 'Device-Id': mac });
    expect(spy).toHaveBeenCalled();
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
  });

  it('product_key mode: a registered device without the key → 202 (with it → 200)', async () => {
    const mac = 'AA:BB:CC:00:45:01';
    await ota({ version: '1.0.0', application: 'keyed' }, { 'Device-Id': mac, 'X-OTA-Key': productKey });
    const without = await activate({ application: 'keyed' }, { 'Device-Id': mac });
    expect(without.status).toBe(202);
    expect(without.text).toBe('');
    const withKey = await activate({ application: 'keyed' }, { 'Device-Id': mac, 'X-OTA-Key': productKey });
    expect(withKey.status).toBe(200);
    expect(withKey.text).toBe('success');
  });
});

describe('GET /toy/ota/', () => {
  it('without type → { code: 0, msg: "success", data: { status: "online", latestVersions of esp32, esp32s3, esp32c3, serverTime } }', async () => {
    const r = await t.api.get('/toy/ota/');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      code: 0,
      msg: 'success',
      data: {
        status: 'online',
        latestVersions: {
          esp32: { version: '1.0.9', forceUpdate: false },
          esp32s3: { version: '1.1.0', forceUpdate: false },
          esp32c3: { version: '1.0.8', forceUpdate: true },
        },
        serverTime: expect.any(Number),
      },
    });
    expectServerTimeNow(r.body.data.serverTime);
    // Same answer without the trailing slash.
    expect((await t.api.get('/toy/ota')).body.data.latestVersions).toEqual(r.body.data.latestVersions);
  });

  it('type=esp32c3 returns only that board', async () => {
    const r = await t.api.get('/toy/ota/?type=esp32c3');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 0, msg: 'success', data: { status: 'online' } });
    expect(r.body.data.latestVersions).toEqual({ esp32c3: { version: '1.0.8', forceUpdate: true } });
    expect((await t.api.get('/toy/ota/?type=esp32s3')).body.data.latestVersions).toEqual({ esp32s3: { version: '1.1.0', forceUpdate: false } });
  });

  it('a board type without firmware is omitted from latestVersions', async () => {
    // plush has one build without `boards`: it is for the product chip's board (esp32s3) only.
    const all = await t.api.get('/toy/ota/?application=plush');
    expect(all.status).toBe(200);
    expect(all.body.data.latestVersions).toEqual({ esp32s3: { version: '2.0.0', forceUpdate: false } });
    const c3 = await t.api.get('/toy/ota/?application=plush&type=esp32c3');
    expect(c3.body).toMatchObject({ code: 0, msg: 'success', data: { status: 'online', latestVersions: {} } });
    expect(c3.body.data.latestVersions).toEqual({});
  });
});

describe('hardware-safe: oversized or garbage input never gets a 5xx', () => {
  const garbageBodies: [string, string | Record<string, unknown>][] = [
    ['wrong field types', { version: 123, board: { x: 1 }, flash_size: 'big', chip_model_name: [], application: 42, ota: 'nope' }],
    ['negative / huge numbers', { version: '1.0.0', flash_size: -1 }],
    ['very long strings', { version: 'v'.repeat(5000), board: 'b'.repeat(5000), application: 'a'.repeat(5000), chip_info: 'c'.repeat(5000) }],
    ['JSON array', '[1,2,3]'],
    ['JSON null', 'null'],
    ['JSON string', '"AA:BB:CC:DD:EE:FF"'],
    ['binary', '\u0000\u00ff\u00fe\u0001garbage'],
    ['oversized JSON (> 16 KiB)', { version: '1.0.5', pad: 'x'.repeat(64 * 1024) }],
  ];

  it.each(garbageBodies)('POST /toy/ota/ with a Device-Id header and %s → 200 or 4xx', async (_name, body) => {
    const r = await t.api.post('/toy/ota/', typeof body === 'string' ? body : JSON.stringify(body), {
      'Device-Id': 'AA:BB:CC:00:50:01',
      'content-type': 'application/json',
    });
    expect(r.status).toBeLessThan(500);
    if (r.status === 200) expect(r.body.device.mac).toBe('AA:BB:CC:00:50:01');
  });

  it.each(garbageBodies)('POST /toy/ota/ without Device-Id and %s → 4xx', async (_name, body) => {
    const r = await t.api.post('/toy/ota/', typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json' });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  });

  it.each(garbageBodies)('POST /toy/ota/activate with %s → 202 empty', async (_name, body) => {
    const r = await t.api.post('/toy/ota/activate', typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json' });
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
  });

  it('garbage MACs (overlong header, non-string body mac) → 400 / 202, never 5xx', async () => {
    const long = await ota({}, { 'Device-Id': 'A'.repeat(4000) });
    expect(long).toMatchObject({ status: 400, body: { code: 400, msg: 'Invalid device ID format' } });
    const numeric = await ota({ mac: 123456, mac_address: { a: 1 } });
    expect(numeric.status).toBe(400);
    expect(numeric.body.code).toBe(400);
    const act = await activate({ mac: ['AA:BB:CC:DD:EE:FF'] }, { 'Device-Id': 'Z'.repeat(4000) });
    expect(act.status).toBe(202);
  });

  it('a body above the gateway payload limit (10 MiB) is refused with a 4xx', async () => {
    // Sent on its own connection (agent: false): the local gateway answers 413 on a keep-alive socket it
    // then resets, which would break the next request of fetch's shared pool (reported separately).
    const status = await postOnOwnConnection('/toy/ota/', Buffer.alloc(11 * 1024 * 1024, 0x78), {
      'Device-Id': 'AA:BB:CC:00:51:01',
      'content-type': 'application/json',
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect((await adminDevice('cheeko', 'AA:BB:CC:00:51:01')).status).toBe(404);
  });

  it('GET /toy/ota/ with garbage type / application → 200 with no versions, never 5xx', async () => {
    for (const q of [`type=${'x'.repeat(3000)}`, 'type=%00%ff', 'type=', 'type=esp32&type=esp32c3', `application=${'a'.repeat(3000)}`]) {
      const r = await t.api.get(`/toy/ota/?${q}`);
      expect(r.status).toBeLessThan(500);
      expect(r.body).toMatchObject({ code: 0, msg: 'success', data: { status: 'online' } });
    }
  });
});

describe('device.autoUpdate', () => {
  it('reflects what the operator set on the device (PATCH auto_update)', async () => {
    const mac = 'AA:BB:CC:00:AU:01'.replace('AU', 'A0');
    expect((await ota({ version: '1.0.0', board: 'esp32s3' }, { 'Device-Id': mac })).body.device.autoUpdate).toBe(true);
    const patched = await t.api.call('PATCH', `/admin/v1/products/cheeko/devices/${encodeURIComponent(mac)}`, { auto_update: false });
    expect(patched.status).toBe(200);
    expect(patched.body.auto_update).toBe(false);
    expect((await ota({ version: '1.0.0', board: 'esp32s3' }, { 'Device-Id': mac })).body.device.autoUpdate).toBe(false);
  });
});
