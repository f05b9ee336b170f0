/**
 * The local S3 is not an open door: it listens on loopback whatever address the device API binds,
 * and refuses anything not signed with the platform's own credentials (anonymous, another key, a
 * tampered or expired presigned URL), so nobody can read firmware around the signed URLs or
 * overwrite a released build. Real HTTP against the running platform.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client } from '../../../lambdas/shared/s3';
import { loadOrCreateS3Credentials } from '../../../lib/local/keys';
import { startPlatform, type LocalPlatform } from '../../../lib/local/platform';
import { verifyS3Request } from '../../../lib/local/s3-auth';
import { buildEspImage } from '../../fixtures/esp-image';
import { httpClient } from '../../support/http-client';
import { publishRelease } from '../../support/release';

jest.setTimeout(30_000);

/** Every `listen(port, host)` of this process: the host asked for, by the port it got. */
const requested: { server: Server; host: unknown }[] = [];
const realListen = Server.prototype.listen;
let platform: LocalPlatform;
let firmwareKey: string;
const image = buildEspImage({ version: '1.0.0', fill: 7 });

beforeAll(async () => {
  // The platform is asked to bind 0.0.0.0 (OTA_HOST=0.0.0.0, the README's LAN setup). What each
  // server asked for is recorded; the sockets themselves still bind loopback (tests never open
  // ports beyond 127.0.0.1).
  jest.spyOn(Server.prototype, 'listen').mockImplementation(function (this: Server, ...args: unknown[]) {
    requested.push({ server: this, host: args[1] });
    if (args[1] === '0.0.0.0') args[1] = '127.0.0.1';
    return (realListen as (...a: unknown[]) => Server).apply(this, args);
  });
  process.env.OTA_SILENT = '1';
  platform = await startPlatform({ inMemory: true, host: '0.0.0.0', apiPort: 0, cdnPort: 0, s3Port: 0, quiet: true, sweepIntervalMs: 0 });
  const api = httpClient(platform.apiUrl);
  await api.put('/admin/v1/products/s3sec', { chip: 'esp32', security_mode: 'open', firmware_type: 'S3 Board' });
  const result = await publishRelease(platform, { product: 's3sec', version: '1.0.0', files: { 'app.bin': image }, manifest: { release: true } });
  expect(result).toMatchObject({ status: 'accepted', state: 'RELEASED' });
  const listed = await platform.s3.send(new ListObjectsV2Command({ Bucket: platform.buckets.firmware }));
  firmwareKey = listed.Contents!.map((o) => o.Key!).find((k) => k.endsWith('.bin'))!;
  expect(firmwareKey).toBeDefined();
});
afterAll(async () => {
  await platform?.stop();
  jest.restoreAllMocks();
});

const objectUrl = (key: string) => `${platform.s3Endpoint}/${platform.buckets.firmware}/${key.split('/').map(encodeURIComponent).join('/')}`;
const storedSha = async () => {
  const r = await platform.s3.send(new GetObjectCommand({ Bucket: platform.buckets.firmware, Key: firmwareKey }));
  return createHash('sha256')
    .update(Buffer.from(await r.Body!.transformToByteArray()))
    .digest('hex');
};
const imageSha = createHash('sha256').update(image).digest('hex');

describe('local S3 binding', () => {
  it('expect S3 (front and s3rver) on 127.0.0.1 even when the platform binds 0.0.0.0', () => {
    expect(new URL(platform.s3Endpoint).hostname).toBe('127.0.0.1');
    const port = (s: Server) => (s.address() as { port: number } | null)?.port;
    const s3Front = requested.find((r) => port(r.server) === Number(new URL(platform.s3Endpoint).port));
    expect(s3Front?.host).toBe('127.0.0.1');
    const api = requested.find((r) => port(r.server) === Number(new URL(platform.apiUrl).port));
    expect(api?.host).toBe('0.0.0.0'); // the device API did take the LAN setting
    // Nothing but the device API and the CDN edge asked for anything other than loopback.
    const open = requested.filter((r) => r.host !== '127.0.0.1').map((r) => port(r.server));
    expect(open.sort()).toEqual([Number(new URL(platform.apiUrl).port), Number(new URL(platform.cdnUrl).port)].sort());
  });
});

describe('local S3 authentication', () => {
  it('expect an anonymous GET of a released build to be refused', async () => {
    const r = await fetch(objectUrl(firmwareKey));
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('expect an anonymous PUT overwriting a released build to be refused and the bytes kept', async () => {
    const r = await fetch(objectUrl(firmwareKey), { method: 'PUT', body: Buffer.from('attacker bytes') });
    expect(r.status).toBe(403);
    expect(await storedSha()).toBe(imageSha);
  });

  it("expect a PUT signed with s3rver's stock key to be refused", async () => {
    const wrong = new S3Client({
      region: 'us-east-1',
      endpoint: platform.s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    await expect(
      wrong.send(new PutObjectCommand({ Bucket: platform.buckets.firmware, Key: firmwareKey, Body: Buffer.from('attacker') })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    wrong.destroy();
    expect(await storedSha()).toBe(imageSha);
  });

  it('expect the right key id with a wrong secret to be refused', async () => {
    const forged = createS3Client(platform.s3Endpoint, { accessKeyId: platform.s3Credentials.accessKeyId, secretAccessKey: 'guessed' });
    await expect(forged.send(new GetObjectCommand({ Bucket: platform.buckets.firmware, Key: firmwareKey }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    forged.destroy();
  });

  it('expect a signed body that differs from its signed hash to be refused before it is stored', async () => {
    const url = new URL(objectUrl(firmwareKey));
    // Sign the hash of one body, send another.
    const signed = (await new (await import('@smithy/signature-v4')).SignatureV4({
      service: 's3',
      region: 'us-east-1',
      credentials: platform.s3Credentials,
      sha256: (await import('@aws-crypto/sha256-js')).Sha256,
      uriEscapePath: false,
    }).sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'x-amz-content-sha256': imageSha },
    } as never)) as unknown as { headers: Record<string, string> };
    const r = await fetch(url, { method: 'PUT', headers: signed.headers, body: Buffer.from('attacker') });
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('XAmzContentSHA256Mismatch');
    expect(await storedSha()).toBe(imageSha);
  });

  it('expect presigned URLs of the platform key to work, and tampered or expired ones to be refused', async () => {
    const url = await getSignedUrl(platform.s3, new GetObjectCommand({ Bucket: platform.buckets.firmware, Key: firmwareKey }), { expiresIn: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(image)).toBe(true);
    const other = url.replace(encodeURIComponent(firmwareKey.split('/').pop()!), 'other.bin');
    expect(other).not.toBe(url);
    expect((await fetch(other)).status).toBe(403);
    const v = await verifyS3Request(
      { method: 'GET', rawUrl: url.slice(platform.s3Endpoint.length), headers: { host: new URL(url).host } },
      platform.s3Credentials,
      Date.now() + 120_000,
    );
    expect(v).toMatchObject({ ok: false, code: 'AccessDenied', message: 'Request has expired' });
  });

  it("expect the platform's own clients and the signed download URL to keep working", async () => {
    expect(await storedSha()).toBe(imageSha);
    const api = httpClient(platform.apiUrl);
    expect((await api.post('/admin/v1/products/s3sec/deployments', { build: 1, percentage: 100 })).status).toBeLessThan(300);
    const offer = await api.post('/api/v1/ota/check', { product: 's3sec', device_id: 'AA:BB:CC:00:00:01', version: '0.1.0' });
    expect(offer.body.status).toBe('update_available');
    const bytes = Buffer.from(await (await fetch(offer.body.url)).arrayBuffer());
    expect(bytes.equals(image)).toBe(true);
  });
});

describe('local S3 credentials', () => {
  it('expect one random pair per data dir, kept owner-only and reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ota-s3-creds-'));
    try {
      const a = loadOrCreateS3Credentials(dir);
      expect(loadOrCreateS3Credentials(dir)).toEqual(a);
      expect(a.secretAccessKey.length).toBeGreaterThanOrEqual(40);
      expect(statSync(join(dir, 's3-credentials.json')).mode & 0o077).toBe(0);
      const other = mkdtempSync(join(tmpdir(), 'ota-s3-creds-'));
      expect(loadOrCreateS3Credentials(other).secretAccessKey).not.toBe(a.secretAccessKey);
      rmSync(other, { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
