/**
 * The cloud's download evidence, end to end on the local platform's DynamoDB and S3: a gzipped
 * CloudFront standard log file lands in the log bucket, the download-log handler reads it from S3
 * (its S3 event as S3 sends it), and the device's open offer is marked downloaded — once, however
 * often the event is delivered — so coming back on the old version is an inferred failure.
 */
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { ENV } from '../../lambdas/shared/env';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

const LOG_BUCKET = 'ota-cdn-logs';
const FIELDS =
  'date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end';

let t: TestPlatform;
let handler: (e: S3Event) => Promise<void>;
const builds: Record<string, number> = {};
const images: Record<string, Buffer> = {};

beforeAll(async () => {
  t = await startTestPlatform();
  await t.platform.s3.send(new CreateBucketCommand({ Bucket: LOG_BUCKET }));
  Object.assign(process.env, { [ENV.CDN_LOG_BUCKET]: LOG_BUCKET, [ENV.CDN_LOG_PREFIX]: 'cdn/' });
  handler = (await import('../../lambdas/handlers/download-log')).handler;
  await createProduct(t.api, 'cl', { chip: 'esp32' });
  for (const [v, fill] of [
    ['1.0.0', 1],
    ['1.1.0', 2],
  ] as const) {
    images[v] = buildEspImage({ version: v, fill });
    const r = await publishRelease(t.platform, {
      product: 'cl',
      version: v,
      files: { 'fw.bin': images[v] },
      manifest: { release: true, app_version_check: false },
    });
    expect(r.status).toBe('accepted');
    builds[v] = r.build_number;
  }
}, 60_000);
afterAll(async () => {
  await t?.platform.stop();
});

const check = (device_id: string, version: string, channel: string) => t.api.post('/api/v1/ota/check/', { product: 'cl', device_id, version, channel });
const deploy = async (channel: string) => {
  const r = await t.api.post('/admin/v1/products/cl/deployments', { build: builds['1.1.0'], percentage: 100, channel });
  expect(r.status).toBe(201);
  return r.body.deployment_id as string;
};
const counts = async (depId: string) => (await t.api.get(`/admin/v1/products/cl/deployments/${depId}`)).body.counts;

/** A CloudFront log line for a GET of `url` (as the device sent it). */
function logLine(url: string, o: { status?: number; body?: number; sent?: number; range?: [number, number] } = {}): string {
  const u = new URL(url);
  const body = o.body ?? images['1.1.0']!.length;
  const cols: Record<string, string> = {
    date: '2026-12-02',
    time: '14:03:11',
    'x-edge-location': 'FRA56-P1',
    'sc-bytes': String(o.sent ?? body + 420),
    'c-ip': '203.0.113.9',
    'cs-method': 'GET',
    'cs(Host)': 'd111111abcdef8.cloudfront.net',
    'cs-uri-stem': u.pathname,
    'sc-status': String(o.status ?? 200),
    'cs(Referer)': '-',
    'cs(User-Agent)': 'ESP32%20HTTP%20Client/1.0',
    'cs-uri-query': u.search.slice(1) || '-',
    'cs(Cookie)': '-',
    'x-edge-result-type': 'Hit',
    'x-edge-request-id': 'req==',
    'x-host-header': 'd111111abcdef8.cloudfront.net',
    'cs-protocol': 'https',
    'cs-bytes': '300',
    'time-taken': '0.9',
    'x-forwarded-for': '-',
    'ssl-protocol': 'TLSv1.2',
    'ssl-cipher': 'ECDHE-RSA-AES128-GCM-SHA256',
    'x-edge-response-result-type': 'Hit',
    'cs-protocol-version': 'HTTP/1.1',
    'fle-status': '-',
    'fle-encrypted-fields': '-',
    'c-port': '50000',
    'time-to-first-byte': '0.01',
    'x-edge-detailed-result-type': 'Hit',
    'sc-content-type': 'application/octet-stream',
    'sc-content-len': String(body),
    'sc-range-start': o.range ? String(o.range[0]) : '-',
    'sc-range-end': o.range ? String(o.range[1]) : '-',
  };
  return FIELDS.split(' ')
    .map((f) => cols[f])
    .join('\t');
}

/** Puts a log file under `key` and returns the S3 event S3 would send for it (key URL-encoded, spaces as `+`). */
async function deliver(key: string, body: Buffer): Promise<S3Event> {
  await t.platform.s3.send(new PutObjectCommand({ Bucket: LOG_BUCKET, Key: key, Body: body }));
  const encoded = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return { Records: [{ s3: { bucket: { name: LOG_BUCKET }, object: { key: encoded, sequencer: '01' } } }] } as unknown as S3Event;
}
const logFile = (...lines: string[]) => gzipSync(`#Version: 1.0\n#Fields: ${FIELDS}\n${lines.join('\n')}\n`);

it('expect a whole download in a delivered log file to mark the offer once, and the device back on its old version to be an inferred failure', async () => {
  const depId = await deploy('logs');
  const id = 'CL-LOG-1';
  const offer = await check(id, '1.0.0', 'logs');
  expect(offer.body.status).toBe('update_available');
  const event = await deliver('cdn/E2EXAMPLE.2026-12-02-14.a1b2 c3.gz', logFile(logLine(offer.body.url)));
  await handler(event);
  await handler(event); // S3 may deliver an event twice; Lambda retries a failed one
  expect((await counts(depId)).downloaded).toBe(1);
  expect((await check(id, '1.0.0', 'logs')).body.status).toBe('no_update');
  expect(await counts(depId)).toMatchObject({ failed: 1, inferred: { failed: 1 } });
});

it('expect a cut-short download, a 403 and a download without d not to mark any offer', async () => {
  const depId = await deploy('logs2');
  const offer = await check('CL-LOG-2', '1.0.0', 'logs2');
  const other = await check('CL-LOG-3', '1.0.0', 'logs2');
  const anonymous = new URL(other.body.url);
  anonymous.searchParams.delete('d');
  const file = logFile(logLine(offer.body.url, { sent: 4000 }), logLine(other.body.url, { status: 403, body: 146, sent: 500 }), logLine(anonymous.toString()));
  await handler(await deliver('cdn/E2EXAMPLE.2026-12-02-15.b2.gz', file));
  expect((await counts(depId)).downloaded).toBe(0);
});

it('expect a resumed 206 that reached the image end to count, once the range was delivered', async () => {
  const depId = await deploy('logs3');
  const offer = await check('CL-LOG-4', '1.0.0', 'logs3');
  const size = images['1.1.0']!.length;
  const tail = size - 1000;
  await handler(
    await deliver('cdn/E2EXAMPLE.2026-12-02-16.c3.gz', logFile(logLine(offer.body.url, { status: 206, body: size - tail, range: [tail, size - 1] }))),
  );
  expect((await counts(depId)).downloaded).toBe(1);
});

it('expect a file that is not gzip to be skipped without throwing (a retry would fail forever)', async () => {
  await expect(handler(await deliver('cdn/E2EXAMPLE.2026-12-02-17.d4.gz', Buffer.from('not gzip at all')))).resolves.toBeUndefined();
});
