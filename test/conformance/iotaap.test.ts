/**
 * IoTaaP conformance (seed 004_6181da90b23fe28b.txt): every documented path, field, status code
 * and example of IoTaaP's OTA API against the local platform over real HTTP.
 *
 * - device routes: `GET /v1/ota/device/latest/{device-id}` → `{ "ver" }`,
 *   `GET /v1/ota/device/download/{device-id}{device-token}` → 302 to the signed CDN URL;
 * - operator routes: `POST /v1/ota/device` (multipart firmware upload into the ingest pipeline)
 *   and `GET /v1/ota/device` (latest OTA per device, DataTables-style paging).
 *
 * IoTaaP device ids look like Mongo ids; tokens are issued by the operator API (24 alphanumerics).
 */
import { createHash } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ROUTES } from '../../lambdas/routes';
import { documentClient } from '../../lambdas/shared/aws';
import { s3Client } from '../../lambdas/shared/s3';
import { startGateway, type Gateway, type HttpFunction } from '../../lib/local/gateway';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;
/** Fault injection for the documented 500s: the handlers run in-process and share these clients. */
const faults = { s3Put: false, dynamoQuery: false };
beforeAll(async () => {
  t = await startTestPlatform();
  s3Client().middlewareStack.add(
    (next, context) => async (args) => {
      if (faults.s3Put && context.commandName === 'PutObjectCommand') throw Object.assign(new Error('injected S3 outage'), { name: 'ServiceUnavailable' });
      return next(args);
    },
    { step: 'initialize', name: 'iotaapS3Fault' },
  );
  documentClient().middlewareStack.add(
    (next, context) => async (args) => {
      if (faults.dynamoQuery && /^Query/.test(context.commandName as string))
        throw Object.assign(new Error('injected DynamoDB outage'), { name: 'InternalServerError' });
      return next(args);
    },
    { step: 'initialize', name: 'iotaapDynamoFault' },
  );
});
afterAll(async () => {
  await t?.platform.stop();
});

const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Mongo-ObjectId-looking device ids (24 hex digits), unique per call. */
let idCounter = 0;
const mongoId = (prefix = '5e1b5780') => `${prefix}${(++idCounter).toString(16).padStart(24 - prefix.length, '0')}`;

async function iotaapProduct(productId: string, chip: 'esp32' | 'esp32s3' = 'esp32') {
  await createProduct(t.api, productId, { chip, security_mode: 'device_token', protocols: { iotaap: true } });
}

async function issueToken(productId: string, deviceId: string): Promise<string> {
  const r = await t.api.post(`/admin/v1/products/${productId}/devices/${deviceId}/token`);
  expect(r.status).toBe(201);
  expect(r.body.token).toMatch(/^[A-Za-z0-9]{24}$/);
  return r.body.token;
}

/** Publishes a RELEASED build through the ingest bucket; returns its build number. */
async function release(productId: string, version: string, fill: number, chip: 'esp32' | 'esp32s3' = 'esp32'): Promise<{ build: number; bytes: Buffer }> {
  const bytes = buildEspImage({ chip, version, fill });
  const r = await publishRelease(t.platform, { product: productId, version, files: { 'app.bin': bytes }, manifest: { release: true } });
  expect(r.status).toBe('accepted');
  return { build: r.build_number, bytes };
}

async function assign(productId: string, deviceId: string, build: number, replace = false) {
  const r = await t.api.put(`/admin/v1/products/${productId}/devices/${deviceId}/assignment`, { build, ...(replace ? { replace } : {}) });
  expect([200, 201]).toContain(r.status);
  return r.body;
}

const getDevice = async (productId: string, deviceId: string) => {
  const r = await t.api.get(`/admin/v1/products/${productId}/devices/${deviceId}`);
  expect(r.status).toBe(200);
  return r.body;
};

const latest = (deviceId: string) => t.api.get(`/v1/ota/device/latest/${encodeURIComponent(deviceId)}`);
const download = (deviceId: string, token: string) => t.api.get(`/v1/ota/device/download/${encodeURIComponent(`${deviceId}${token}`)}`);

/** Follows the 302 the way a device does: the signed CDN URL must serve the exact bytes. */
async function followDownload(deviceId: string, token: string): Promise<Buffer> {
  const r = await download(deviceId, token);
  expect(r.status).toBe(302);
  const location = r.headers.get('location')!;
  expect(location).toMatch(/^https?:\/\//);
  expect(location.startsWith(t.platform.cdnUrl)).toBe(true);
  const res = await fetch(location);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

interface UploadFields {
  readonly firmware?: Buffer | string;
  readonly filename?: string;
  readonly device?: string;
  readonly token?: string;
  readonly version?: string;
}

/** `POST /v1/ota/device` as multipart/form-data, built with the global FormData/Blob. */
async function upload(fields: UploadFields): Promise<{ status: number; body: any; headers: Headers }> {
  const form = new FormData();
  if (fields.firmware !== undefined) {
    if (typeof fields.firmware === 'string')
      form.append('firmware', fields.firmware); // a plain field, not a file
    else form.append('firmware', new Blob([fields.firmware], { type: 'application/octet-stream' }), fields.filename ?? 'firmware.bin');
  }
  for (const name of ['device', 'token', 'version'] as const) if (fields[name] !== undefined) form.append(name, fields[name]!);
  const res = await fetch(`${t.platform.apiUrl}/v1/ota/device`, { method: 'POST', body: form, redirect: 'manual' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body, headers: res.headers };
}

/** Raw POST with a hand-built body. */
async function rawPost(body: Buffer | string, contentType: string) {
  const res = await fetch(`${t.platform.apiUrl}/v1/ota/device`, { method: 'POST', body, headers: { 'content-type': contentType } });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

const ingestKeys = async (prefix: string) =>
  ((await t.platform.s3.send(new ListObjectsV2Command({ Bucket: t.platform.buckets.ingest, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

// ─────────────────────────────────────────────────────────────────────────────────────────────────
describe('GET /v1/ota/device/latest/{device-id}', () => {
  const P = 'iot-latest';
  const assigned = mongoId();
  const deployed = mongoId();
  let v110: number;
  beforeAll(async () => {
    await iotaapProduct(P);
    const v100 = (await release(P, '1.0.0', 11)).build;
    v110 = (await release(P, '1.1.0', 12)).build;
    await issueToken(P, assigned);
    await issueToken(P, deployed);
    const dep = await t.api.post(`/admin/v1/products/${P}/deployments`, { build: v100, percentage: 100 });
    expect(dep.status).toBe(201);
  });

  it('returns 200 { "ver" } with the version of the build assigned to the device', async () => {
    await assign(P, assigned, v110);
    const r = await latest(assigned);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ver: '1.1.0' });
  });

  it('latest (open) leaves the assignment pending; only the authenticated download marks it delivered', async () => {
    const id = mongoId();
    const token = await issueToken(P, id);
    await assign(P, id, v110);
    expect((await latest(id)).body).toEqual({ ver: '1.1.0' });
    expect((await getDevice(P, id)).assignment.state).toBe('pending');
    expect((await download(id, token)).status).toBe(302);
    expect((await getDevice(P, id)).assignment.state).toBe('delivered');
  });

  it('returns 200 { "ver" } with the version of an active deployment\'s build when the device has no assignment', async () => {
    const r = await latest(deployed);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ver: '1.0.0' });
  });

  it('"ver" is a string, as in the documented example { "ver": "1.0.1" }', async () => {
    const r = await latest(deployed);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(typeof r.body.ver).toBe('string');
  });

  it('unknown device → 404 { "message": "No such device", "error": … }', async () => {
    const r = await latest(mongoId('ffffffff'));
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'No such device', error: expect.any(String) });
  });

  it('a device with nothing to run (no assignment, no deployment, no known version) → 404 { "message": "No such device", "error": … }, not { "ver": "" }', async () => {
    // The stock IoTaaP library starts an OTA whenever `ver` differs from its own version; any 200 here would send it to download.
    await iotaapProduct('iot-latest-empty');
    const idle = mongoId();
    await issueToken('iot-latest-empty', idle);
    const r = await latest(idle);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'No such device', error: expect.any(String) });
  });

  it('a device id bound to two IoTaaP products is not guessed: 404 No such device', async () => {
    await iotaapProduct('iot-twin-a');
    await iotaapProduct('iot-twin-b');
    const twin = mongoId();
    await issueToken('iot-twin-a', twin);
    await issueToken('iot-twin-b', twin);
    await assign('iot-twin-a', twin, (await release('iot-twin-a', '1.0.0', 13)).build);
    const r = await latest(twin);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ message: 'No such device' });
  });

  it('devices resources not available at the moment → 404 { "message": "No such device", "error": … }', async () => {
    faults.dynamoQuery = true;
    try {
      const r = await latest(assigned);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ message: 'No such device', error: expect.any(String) });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      faults.dynamoQuery = false;
    }
    expect((await latest(assigned)).status).toBe(200);
  });

  it('malformed device id → the documented 404, never a 5xx', async () => {
    for (const bad of ['.hidden', '-leading-dash', 'x'.repeat(300), 'a b', 'id%00']) {
      const r = await t.api.get(`/v1/ota/device/latest/${encodeURIComponent(bad)}`);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ message: 'No such device' });
    }
  });

  it('a device of a non-IoTaaP product is an unknown device (404 No such device)', async () => {
    await createProduct(t.api, 'iot-not-bound', { security_mode: 'device_token' });
    const other = mongoId();
    await issueToken('iot-not-bound', other);
    const r = await latest(other);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ message: 'No such device' });
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────────
describe('GET /v1/ota/device/download/{device-id}{device-token}', () => {
  const P = 'iot-dl';
  const EMPTY = 'iot-dl-empty';
  const dev = mongoId();
  const idle = mongoId();
  const untouched = mongoId();
  let token: string;
  let idleToken: string;
  let untouchedToken: string;
  let bytes: Buffer;
  beforeAll(async () => {
    await iotaapProduct(P);
    await iotaapProduct(EMPTY);
    const r = await release(P, '2.0.0', 21);
    bytes = r.bytes;
    token = await issueToken(P, dev);
    untouchedToken = await issueToken(P, untouched);
    idleToken = await issueToken(EMPTY, idle);
    await assign(P, dev, r.build);
    await assign(P, untouched, r.build);
  });

  it('302 to the signed CDN URL, which serves the exact firmware bytes', async () => {
    const got = await followDownload(dev, token);
    expect(got.length).toBe(bytes.length);
    expect(sha256(got)).toBe(sha256(bytes));
  });

  it('the Lambda never streams bytes: the 302 has an empty body', async () => {
    const r = await download(dev, token);
    expect(r.status).toBe(302);
    expect(r.text).toBe('');
  });

  it('bad device id → 404 { "message": "No such device", "error": … }', async () => {
    const r = await download(mongoId('eeeeeeee'), token);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'No such device', error: expect.any(String) });
  });

  it('wrong token → 404 { "message": "No such device", "error": … }, and writes nothing', async () => {
    const before = await getDevice(P, untouched);
    const wrong = untouchedToken.slice(0, -1) + (untouchedToken.endsWith('A') ? 'B' : 'A');
    const r = await download(untouched, wrong);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'No such device', error: expect.any(String) });
    // Another device's valid token does not open this device either.
    expect((await download(untouched, token)).status).toBe(404);
    const after = await getDevice(P, untouched);
    expect(after.assignment.state).toBe('pending');
    expect(after.last_seen).toBe(before.last_seen);
  });

  it('id and token run together with no separator: a short, empty or non-alphanumeric token segment → 404', async () => {
    for (const seg of [dev, `${dev}${token.slice(0, 23)}`, token, `${dev}-${token.slice(1)}`, `${dev}${token}x`]) {
      const r = await t.api.get(`/v1/ota/device/download/${encodeURIComponent(seg)}`);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ message: 'No such device' });
    }
  });

  it('devices resources not available at the moment → 404 { "message": "No such device", "error": … }', async () => {
    faults.dynamoQuery = true;
    try {
      const r = await download(dev, token);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ message: 'No such device', error: expect.any(String) });
    } finally {
      faults.dynamoQuery = false;
    }
    expect((await download(dev, token)).status).toBe(302);
  });

  it('nothing to download (no assignment, no deployment) → 404 { "message": "No such device", "error": … }', async () => {
    const r = await download(idle, idleToken);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'No such device', error: expect.any(String) });
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────────
describe('POST /v1/ota/device (multipart firmware upload)', () => {
  const P = 'iot-up';
  const dev = mongoId();
  const dev2 = mongoId();
  let token: string;
  let token2: string;
  beforeAll(async () => {
    await iotaapProduct(P);
    token = await issueToken(P, dev);
    token2 = await issueToken(P, dev2);
  });
  const image = (version: string, fill: number, chip: 'esp32' | 'esp32s3' = 'esp32') => buildEspImage({ chip, version, fill });

  it('201 { "message": "Firmware successfully deployed" }; then latest returns that version and download serves those bytes', async () => {
    const firmware = image('1.2.7', 31);
    const r = await upload({ firmware, device: dev, token, version: '1.2.7' });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ message: 'Firmware successfully deployed' });
    expect((await latest(dev)).body).toEqual({ ver: '1.2.7' });
    expect(sha256(await followDownload(dev, token))).toBe(sha256(firmware));
  });

  it('a new version replaces the previous one: the update is triggered because the version differs', async () => {
    const firmware = image('1.2.8', 32);
    const r = await upload({ firmware, device: dev, token, version: '1.2.8' });
    expect(r.status).toBe(201);
    expect((await latest(dev)).body).toEqual({ ver: '1.2.8' });
    expect(sha256(await followDownload(dev, token))).toBe(sha256(firmware));
  });

  it('the same firmware uploaded for a second device is deployed to that device too', async () => {
    const firmware = image('1.2.8', 32);
    const r = await upload({ firmware, device: dev2, token: token2, version: '1.2.8' });
    expect(r.status).toBe(201);
    expect((await getDevice(P, dev2)).assignment).toMatchObject({ version: '1.2.8' });
    expect((await latest(dev2)).body).toEqual({ ver: '1.2.8' });
    expect(sha256(await followDownload(dev2, token2))).toBe(sha256(firmware));
  });

  it.each(['device', 'token', 'version'])('missing %s → 400 { "message": "<field-name> is a mandatory field" }', async (missing) => {
    const fields: Record<string, unknown> = { firmware: image('1.3.0', 33), device: dev, token, version: '1.3.0' };
    delete fields[missing];
    const r = await upload(fields as UploadFields);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: `${missing} is a mandatory field` });
  });

  it('an empty mandatory field counts as missing (400 "<field-name> is a mandatory field")', async () => {
    const r = await upload({ firmware: image('1.3.0', 33), device: dev, token: '', version: '1.3.0' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: 'token is a mandatory field' });
  });

  it('invalid device id → 400 { "message": "Device ID is not valid" }', async () => {
    for (const bad of ['not a device id', '../../etc', 'x'.repeat(65)]) {
      const r = await upload({ firmware: image('1.3.0', 33), device: bad, token, version: '1.3.0' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ message: 'Device ID is not valid' });
    }
  });

  it('no file uploaded → 400 { "message": "No file uploaded" }', async () => {
    const none = await upload({ device: dev, token, version: '1.3.0' });
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ message: 'No file uploaded' });
    // `firmware` sent as a plain text field, or as an empty file, is no file either.
    const text = await upload({ firmware: 'firmware.bin', device: dev, token, version: '1.3.0' });
    expect(text.status).toBe(400);
    expect(text.body).toEqual({ message: 'No file uploaded' });
    const empty = await upload({ firmware: Buffer.alloc(0), device: dev, token, version: '1.3.0' });
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({ message: 'No file uploaded' });
  });

  it('unknown device → 404 { "message": "No such device" }', async () => {
    const r = await upload({ firmware: image('1.3.0', 33), device: mongoId('dddddddd'), token, version: '1.3.0' });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'No such device' });
  });

  it('wrong token → 404 { "message": "No such device" }, and nothing reaches the ingest bucket or the device', async () => {
    const before = await getDevice(P, dev);
    for (const wrong of [token2, 'FSouSAJRiJ3v', token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')]) {
      const r = await upload({ firmware: image('1.4.0', 34), device: dev, token: wrong, version: '1.4.0' });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ message: 'No such device' });
    }
    expect(await ingestKeys(`${P}/1.4.0/`)).toEqual([]);
    expect((await getDevice(P, dev)).assignment).toEqual(before.assignment);
  });

  it('non-semver version → 400 { message }', async () => {
    for (const bad of ['1.2', 'v1.2.7', '1.2.7.1', 'latest', '01.2.x']) {
      const r = await upload({ firmware: image(bad, 35), device: dev, token, version: bad });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ message: expect.stringMatching(/version/i) });
    }
    expect(await ingestKeys(`${P}/1.2/`)).toEqual([]);
  });

  it('a rejected image (descriptor version ≠ version) → 400 with the reason, and latest is unchanged', async () => {
    const r = await upload({ firmware: image('9.9.9', 36), device: dev, token, version: '1.5.0' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: expect.stringContaining('9.9.9') });
    expect(r.body.message).toMatch(/1\.5\.0/);
    expect((await latest(dev)).body).toEqual({ ver: '1.2.8' });
  });

  it('a rejected image (wrong chip) → 400 with the reason', async () => {
    const r = await upload({ firmware: image('1.5.1', 37, 'esp32s3'), device: dev, token, version: '1.5.1' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/esp32s3/);
  });

  it('a version rejected earlier can be uploaded again with a correct image (201, not the stale rejection)', async () => {
    const bad = await upload({ firmware: image('0.0.1', 38), device: dev, token, version: '1.6.0' });
    expect(bad.status).toBe(400);
    const firmware = image('1.6.0', 38);
    const r = await upload({ firmware, device: dev, token, version: '1.6.0' });
    expect(r.body).toEqual({ message: 'Firmware successfully deployed' });
    expect(r.status).toBe(201);
    expect((await latest(dev)).body).toEqual({ ver: '1.6.0' });
    expect(sha256(await followDownload(dev, token))).toBe(sha256(firmware));
  });

  it('a file over the 4 MiB limit → 400 with a clear message', async () => {
    const big = buildEspImage({ chip: 'esp32', version: '1.7.0', size: 4 * 1024 * 1024 + 1 });
    const r = await upload({ firmware: big, device: dev, token, version: '1.7.0' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/exceeds 4194304 bytes/);
    expect(await ingestKeys(`${P}/1.7.0/`)).toEqual([]);
  });

  it('a file of exactly 4 MiB is accepted', async () => {
    const firmware = buildEspImage({ chip: 'esp32', version: '1.7.1', size: 4 * 1024 * 1024, fill: 39 });
    const r = await upload({ firmware, device: dev, token, version: '1.7.1' });
    expect(r.status).toBe(201);
    expect(sha256(await followDownload(dev, token))).toBe(sha256(firmware));
  });

  it('not multipart → 4xx JSON { message }', async () => {
    const r = await rawPost(JSON.stringify({ device: dev, token, version: '1.8.0' }), 'application/json');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(JSON.parse(r.text)).toEqual({ message: expect.any(String) });
    const none = await rawPost(Buffer.from('firmware'), 'application/octet-stream');
    expect(none.status).toBeGreaterThanOrEqual(400);
    expect(none.status).toBeLessThan(500);
    expect(JSON.parse(none.text)).toEqual({ message: expect.any(String) });
  });

  it('malformed multipart (truncated, no boundary in the body, part without a name) → 400 JSON { message }', async () => {
    const b = 'XyZ123';
    const ct = `multipart/form-data; boundary=${b}`;
    const bodies = [
      `--${b}\r\nContent-Disposition: form-data; name="device"\r\n\r\n${dev}`, // truncated
      'no delimiter at all',
      `--${b}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${b}--\r\n`, // no name
      `--${b}garbage\r\n`,
    ];
    for (const body of bodies) {
      const r = await rawPost(body, ct);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text)).toEqual({ message: expect.any(String) });
    }
  });

  it('an issue during firmware deployment → 500 { "message": "Error when uploading firmware file", "error": … } with Retry-After', async () => {
    faults.s3Put = true;
    try {
      const r = await upload({ firmware: image('1.8.1', 41), device: dev, token, version: '1.8.1' });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ message: 'Error when uploading firmware file', error: expect.any(String) });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      faults.s3Put = false;
    }
  });

  it('a hand-built multipart body (quoted boundary, extra headers, preamble) is understood', async () => {
    const firmware = image('1.9.0', 40);
    const b = 'hand-made boundary';
    const part = (headers: string, data: Buffer | string) =>
      Buffer.concat([Buffer.from(`--${b}\r\n${headers}\r\n\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
    const body = Buffer.concat([
      Buffer.from('preamble to ignore\r\n'),
      part('Content-Disposition: form-data; name="device"', dev),
      part('Content-Disposition: form-data; name="token"', token),
      part('Content-Disposition: form-data; name="version"', '1.9.0'),
      part('Content-Disposition: form-data; name="firmware"; filename="firmware.bin"\r\nContent-Type: application/octet-stream', firmware),
      Buffer.from(`--${b}--\r\n`),
    ]);
    const r = await rawPost(body, `multipart/form-data; boundary="${b}"`);
    expect(r.status).toBe(201);
    expect(JSON.parse(r.text)).toEqual({ message: 'Firmware successfully deployed' });
    expect((await latest(dev)).body).toEqual({ ver: '1.9.0' });
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────────
describe('GET /v1/ota/device (latest OTA per device)', () => {
  const P = 'iot-list';
  // Ids share a prefix no other describe uses, so search_value isolates them.
  const devs = [mongoId('a1a1a1a1'), mongoId('a1a1a1a1'), mongoId('a1a1a1a1'), mongoId('a1a1a1a1')];
  let builds: Record<string, number>;
  const list = (q: Record<string, string | number> = {}) =>
    t.api.get(`/v1/ota/device?${new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)]))}`);
  beforeAll(async () => {
    await iotaapProduct(P);
    builds = {
      '3.0.0': (await release(P, '3.0.0', 51)).build,
      '3.1.0': (await release(P, '3.1.0', 52)).build,
      '3.2.0': (await release(P, '3.2.0', 53)).build,
    };
    for (const d of devs) await issueToken(P, d);
    // devs[0..2] get an OTA in that order; devs[0] then gets a newer one (only the latest counts); devs[3] none.
    await assign(P, devs[0], builds['3.0.0']);
    await sleep(5);
    await assign(P, devs[1], builds['3.1.0']);
    await sleep(5);
    await assign(P, devs[2], builds['3.1.0']);
    await sleep(5);
    await assign(P, devs[0], builds['3.2.0'], true);
  });

  it('200 { otas: [{ _id, device, __v, last_updated, owner, path, version }], recordsTotal, recordsFiltered, draw }', async () => {
    const r = await list({ search_value: 'a1a1a1a1', offset: 0, limit: 10, draw: 'warp', order_dir: 'desc' });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['draw', 'otas', 'recordsFiltered', 'recordsTotal']);
    expect(r.body.otas.length).toBe(3);
    for (const o of r.body.otas) {
      expect(Object.keys(o).sort()).toEqual(['__v', '_id', 'device', 'last_updated', 'owner', 'path', 'version']);
      expect(o).toEqual({
        _id: expect.any(String),
        device: expect.stringMatching(/^a1a1a1a1[0-9a-f]{16}$/),
        __v: 0,
        last_updated: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        owner: P,
        path: expect.any(String),
        version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      });
      expect(o.path).not.toBe('');
    }
    expect(typeof r.body.recordsTotal).toBe('number');
    expect(typeof r.body.recordsFiltered).toBe('number');
  });

  it('returns only the latest OTA per device', async () => {
    const r = await list({ search_value: 'a1a1a1a1', limit: 100 });
    const byDevice = new Map<string, string[]>();
    for (const o of r.body.otas) byDevice.set(o.device, [...(byDevice.get(o.device) ?? []), o.version]);
    expect(byDevice.get(devs[0])).toEqual(['3.2.0']);
    expect(byDevice.get(devs[1])).toEqual(['3.1.0']);
    expect(byDevice.get(devs[2])).toEqual(['3.1.0']);
    expect(byDevice.has(devs[3])).toBe(false); // no OTA yet
    expect(r.body.otas.length).toBe(byDevice.size);
  });

  it('an OTA deployed with POST /v1/ota/device is listed', async () => {
    const d = mongoId('a1a1a1a1');
    const token = await issueToken(P, d);
    const up = await upload({ firmware: buildEspImage({ chip: 'esp32', version: '3.3.0', fill: 54 }), device: d, token, version: '3.3.0' });
    expect(up.status).toBe(201);
    const r = await list({ search_value: d });
    expect(r.body.otas).toEqual([expect.objectContaining({ device: d, version: '3.3.0', owner: P })]);
    expect(r.body.otas[0].path).not.toContain(token); // the token is a secret; it never shows in the list
  });

  it('draw is echoed back', async () => {
    expect((await list({ draw: 'warp' })).body.draw).toBe('warp');
    expect((await list({ draw: '17' })).body.draw).toBe('17');
  });

  it('search_value filters (recordsFiltered counts the matches, recordsTotal all OTAs)', async () => {
    const all = await list({ limit: 100 });
    const one = await list({ search_value: devs[1], limit: 100 });
    expect(one.status).toBe(200);
    expect(one.body.otas.map((o: any) => o.device)).toEqual([devs[1]]);
    expect(one.body.recordsFiltered).toBe(1);
    expect(one.body.recordsTotal).toBe(all.body.recordsTotal);
    expect(all.body.recordsFiltered).toBe(all.body.recordsTotal);
    const byVersion = await list({ search_value: '3.1.0', limit: 100 });
    expect(byVersion.body.otas.map((o: any) => o.device).sort()).toEqual([devs[1], devs[2]].sort());
    // "filtering path parameter": the path is searched too (ours names the product and build).
    const path = one.body.otas[0].path as string;
    const byPath = await list({ search_value: path, limit: 100 });
    expect(byPath.body.otas.length).toBeGreaterThanOrEqual(1);
    expect(byPath.body.otas.every((o: any) => o.path.includes(path))).toBe(true);
    expect(byPath.body.otas.map((o: any) => o.device)).toContain(devs[1]);
    const none = await list({ search_value: 'no-such-thing' });
    expect(none.body).toMatchObject({ otas: [], recordsFiltered: 0, recordsTotal: all.body.recordsTotal });
  });

  it('offset skips and limit caps the records (paging)', async () => {
    const q = { search_value: 'a1a1a1a1', order_dir: 'asc' };
    const all = (await list({ ...q, limit: 100 })).body.otas.map((o: any) => o.device);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const p1 = await list({ ...q, offset: 0, limit: 2 });
    const p2 = await list({ ...q, offset: 2, limit: 2 });
    expect(p1.body.otas.map((o: any) => o.device)).toEqual(all.slice(0, 2));
    expect(p2.body.otas.map((o: any) => o.device)).toEqual(all.slice(2, 4));
    expect(p1.body.recordsFiltered).toBe(all.length);
    const past = await list({ ...q, offset: 1000, limit: 2 });
    expect(past.body.otas).toEqual([]);
    expect(past.body.recordsFiltered).toBe(all.length);
  });

  it('order_dir asc/desc orders by last_updated', async () => {
    const asc = (await list({ search_value: 'a1a1a1a1', order_dir: 'asc', limit: 100 })).body.otas;
    const desc = (await list({ search_value: 'a1a1a1a1', order_dir: 'desc', limit: 100 })).body.otas;
    const times = (os: any[]) => os.map((o) => o.last_updated);
    expect(times(asc)).toEqual([...times(asc)].sort());
    expect(times(desc)).toEqual([...times(asc)].reverse());
    // The assignment order of beforeAll: devs[1] before devs[2] before devs[0] (re-assigned last).
    const order = asc.map((o: any) => o.device).filter((d: string) => devs.includes(d));
    expect(order).toEqual([devs[1], devs[2], devs[0]]);
  });

  it('bad offset → 400 JSON { message }', async () => {
    for (const offset of ['-1', 'abc', '1.5', '99999999999']) {
      const r = await list({ offset });
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      expect(r.body).toEqual({ message: expect.stringMatching(/offset/) });
    }
  });

  it('devices resources unavailable → 500 { "message": "Error when getting device OTA\'s.", "error": … }', async () => {
    faults.dynamoQuery = true;
    try {
      const r = await list({ draw: 'x' });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ message: "Error when getting device OTA's.", error: expect.any(String) });
    } finally {
      faults.dynamoQuery = false;
    }
    expect((await list({ draw: 'x' })).status).toBe(200);
  });

  it('bad limit or order_dir → 400 JSON { message }', async () => {
    for (const q of [{ limit: 'x' }, { limit: '100000' }, { order_dir: 'sideways' }] as Record<string, string>[]) {
      const r = await list(q);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ message: expect.any(String) });
    }
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────────
describe('operator routes are IAM in the cloud and loopback-only locally', () => {
  let untrusted: Gateway;
  const calls: string[] = [];
  beforeAll(async () => {
    const stub: HttpFunction = async (event) => {
      calls.push(event.routeKey);
      return { statusCode: 200, body: '{}' };
    };
    untrusted = await startGateway({ functions: { check: stub, admin: stub, upload: stub }, host: '127.0.0.1', port: 0, isTrustedClient: () => false });
  });
  afterAll(async () => {
    await untrusted?.stop();
  });

  it('GET and POST /v1/ota/device are IAM routes; the device routes are open', () => {
    const auth = (method: string, path: string) => ROUTES.find((r) => r.method === method && r.path === path)?.auth;
    expect(auth('GET', '/v1/ota/device')).toBe('iam');
    expect(auth('POST', '/v1/ota/device')).toBe('iam');
    expect(auth('GET', '/v1/ota/device/latest/{deviceId}')).toBe('none');
    expect(auth('GET', '/v1/ota/device/download/{deviceIdAndToken}')).toBe('none');
  });

  it('a non-loopback client gets 403 on the operator routes and reaches the device routes', async () => {
    expect((await fetch(`${untrusted.url}/v1/ota/device`)).status).toBe(403);
    expect((await fetch(`${untrusted.url}/v1/ota/device`, { method: 'POST', body: new FormData() })).status).toBe(403);
    expect(calls).toEqual([]);
    expect((await fetch(`${untrusted.url}/v1/ota/device/latest/5e1b57808711f904f5df4bad`)).status).toBe(200);
    expect(calls).toEqual(['GET /v1/ota/device/latest/{deviceId}']);
  });
});
