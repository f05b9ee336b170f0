/**
 * The local CDN verifies the same CloudFront signatures the cloud does and serves like CloudFront:
 * Content-Length, Range → 206, unsatisfiable → 416, HEAD, and 403 for anything not signed by us.
 */
import { generateKeyPairSync } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../../lambdas/shared/s3';
import { createUrlSigner } from '../../../lambdas/shared/url-signer';
import { startEdge, type Edge } from '../../../lib/local/edge';
import { generateS3Credentials, generateSigningKeys } from '../../../lib/local/keys';
import { LOCAL_BUCKETS, startPeers, type Peers } from '../../../lib/local/peers';

const keys = generateSigningKeys();
const body = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
let clock = Date.now();
let peers: Peers;
let edge: Edge;
let s3: ReturnType<typeof createS3Client>;

beforeAll(async () => {
  peers = await startPeers({ s3Port: 0, s3Credentials: generateS3Credentials() });
  s3 = createS3Client(peers.s3Endpoint, peers.s3Credentials);
  await s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKETS.firmware, Key: 'p/1/app.bin', Body: body }));
  edge = await startEdge({
    s3,
    bucket: LOCAL_BUCKETS.firmware,
    keyPairId: keys.keyPairId,
    publicKeyPem: keys.publicKeyPem,
    host: '127.0.0.1',
    port: 0,
    now: () => clock,
  });
});
afterAll(async () => {
  await edge?.stop();
  s3?.destroy();
  await peers?.stop();
});

const sign = (key: string, ttlSeconds = 900, privateKeyPem = keys.privateKeyPem, keyPairId = keys.keyPairId) =>
  createUrlSigner({ cdnBaseUrl: edge.baseUrl, keyPairId, ttlSeconds, privateKey: async () => privateKeyPem }).sign(key, clock);

it('serves the whole object with Content-Length and Accept-Ranges', async () => {
  const r = await fetch(await sign('p/1/app.bin'));
  expect(r.status).toBe(200);
  expect(r.headers.get('content-length')).toBe(String(body.length));
  expect(r.headers.get('accept-ranges')).toBe('bytes');
  expect(Buffer.from(await r.arrayBuffer()).equals(body)).toBe(true);
});

it.each([
  ['bytes=0-99', 0, 99],
  ['bytes=9990-', 9990, 9999],
  ['bytes=-10', 9990, 9999],
  ['bytes=5000-99999', 5000, 9999],
])('answers Range %s with 206 and the exact bytes', async (range, start, end) => {
  const r = await fetch(await sign('p/1/app.bin'), { headers: { range } });
  expect(r.status).toBe(206);
  expect(r.headers.get('content-range')).toBe(`bytes ${start}-${end}/${body.length}`);
  expect(r.headers.get('content-length')).toBe(String(end - start + 1));
  expect(Buffer.from(await r.arrayBuffer()).equals(body.subarray(start, end + 1))).toBe(true);
});

it('answers an unsatisfiable range with 416', async () => {
  const r = await fetch(await sign('p/1/app.bin'), { headers: { range: 'bytes=20000-' } });
  expect(r.status).toBe(416);
  expect(r.headers.get('content-range')).toBe(`bytes */${body.length}`);
});

it('answers HEAD with the length and no body', async () => {
  const r = await fetch(await sign('p/1/app.bin'), { method: 'HEAD' });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-length')).toBe(String(body.length));
  expect((await r.arrayBuffer()).byteLength).toBe(0);
});

it('refuses an expired URL with 403', async () => {
  const url = await sign('p/1/app.bin', 60);
  // Expiry is on a whole-minute grid: at most TTL + 60 s from signing.
  clock += 121_000;
  try {
    expect((await fetch(url)).status).toBe(403);
  } finally {
    clock -= 121_000;
  }
});

it('refuses a URL signed by another key, an unknown key pair, an unsigned URL, and another path', async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  expect((await fetch(await sign('p/1/app.bin', 900, other))).status).toBe(403);
  expect((await fetch(await sign('p/1/app.bin', 900, keys.privateKeyPem, 'KOTHER'))).status).toBe(403);
  expect((await fetch(`${edge.baseUrl}/p/1/app.bin`)).status).toBe(403);
  const signed = await sign('p/1/app.bin');
  expect((await fetch(signed.replace('/p/1/app.bin', '/p/2/app.bin'))).status).toBe(403);
  expect((await fetch(signed.replace(/Expires=(\d+)/, (_, e) => `Expires=${Number(e) + 3600}`))).status).toBe(403);
});

it('answers 404 for a correctly signed URL of a missing object', async () => {
  expect((await fetch(await sign('p/9/app.bin'))).status).toBe(404);
});

it('refuses methods other than GET and HEAD', async () => {
  expect((await fetch(await sign('p/1/app.bin'), { method: 'POST' })).status).toBe(405);
});
