/**
 * A log file that meets a sick database is retried, not lost: with DynamoDB black-holed the
 * download-log handler rejects (so Lambda retries the S3 event), and the retry after the database
 * heals marks the offer — once. Real local platform; the fault is a TCP proxy before dynalite.
 */
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { ENV } from '../../lambdas/shared/env';
import type { LocalPlatform } from '../../lib/local/platform';
import { buildEspImage } from '../fixtures/esp-image';
import type { FaultProxy } from '../support/fault-proxy';
import type { HttpClient } from '../support/http-client';
import { startFaultyTestPlatform, type FaultyTestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

jest.setTimeout(60_000);
const LOG_BUCKET = 'ota-cdn-logs';
let faulty: FaultyTestPlatform;
let platform: LocalPlatform;
let proxy: FaultProxy;
let api: HttpClient;
let handler: (e: S3Event) => Promise<void>;

beforeAll(async () => {
  faulty = await startFaultyTestPlatform();
  ({ platform, api, proxy } = faulty);
  await platform.s3.send(new CreateBucketCommand({ Bucket: LOG_BUCKET }));
  Object.assign(process.env, { [ENV.CDN_LOG_BUCKET]: LOG_BUCKET, [ENV.CDN_LOG_PREFIX]: 'cdn/' });
  handler = (await import('../../lambdas/handlers/download-log')).handler;
  await api.put('/admin/v1/products/flaky', { chip: 'esp32', security_mode: 'open', firmware_type: 'Flaky Board' });
  await publishRelease(platform, {
    product: 'flaky',
    version: '1.0.0',
    files: { 'app.bin': buildEspImage({ version: '1.0.0' }) },
    manifest: { release: true },
  });
});
afterAll(() => faulty?.stop());

it('expect the handler to reject while DynamoDB is black-holed, and the retry after it heals to mark the offer once', async () => {
  const dep = await api.post('/admin/v1/products/flaky/deployments', { build: 1, percentage: 100 });
  expect(dep.status).toBe(201);
  const offer = await api.post('/api/v1/ota/check', { product: 'flaky', device_id: 'FLAKY-1', version: '0.1.0' });
  expect(offer.body.status).toBe('update_available');
  const url = new URL(offer.body.url);
  const fields = ['date', 'time', 'cs-method', 'cs-uri-stem', 'sc-status', 'sc-bytes', 'cs-uri-query', 'x-edge-result-type', 'sc-content-len'];
  const line = ['2026-12-02', '14:10:00', 'GET', url.pathname, '200', '2000000', url.search.slice(1), 'Miss', '1000'].join('\t');
  const key = 'cdn/E2FLAKY.2026-12-02-14.f1.gz';
  await platform.s3.send(new PutObjectCommand({ Bucket: LOG_BUCKET, Key: key, Body: gzipSync(`#Version: 1.0\n#Fields: ${fields.join(' ')}\n${line}\n`) }));
  const event = { Records: [{ s3: { bucket: { name: LOG_BUCKET }, object: { key, sequencer: '01' } } }] } as unknown as S3Event;

  proxy.blackhole();
  await expect(handler(event)).rejects.toThrow();
  proxy.heal();
  await handler(event);
  await handler(event);
  const d = await api.get(`/admin/v1/products/flaky/deployments/${dep.body.deployment_id}`);
  expect(d.body.counts.downloaded).toBe(1);
});
