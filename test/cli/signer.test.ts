/**
 * otactl without a network: the SigV4 signer (checked against an independent implementation of
 * the AWS algorithm), which endpoints get signed, and how the connection is resolved.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestFor } from '../../lambdas/contract/client';
import { createDeployment, getDevice, getProduct, patchDevice } from '../../lambdas/contract/operator';
import { apiClientFor, createApiClient } from '../../lib/cli/api';
import { deploymentBody, parseSchedule } from '../../lib/cli/commands/deployments';
import { resolveConnection } from '../../lib/cli/config';
import { ApiError, CliError } from '../../lib/cli/errors';
import { bar, LiveBlock, memoryOutput, ProgressBar, table } from '../../lib/cli/output';
import { run } from '../../lib/cli/program';
import { createSigner, isLoopbackHost, regionFromHost } from '../../lib/cli/signer';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const DATE = new Date('2024-01-02T03:04:05Z');
const HOST = 'abc123.execute-api.eu-west-1.amazonaws.com';

/** Reference SigV4 (docs.aws.amazon.com "Create a signed AWS API request"), written independently of @smithy. */
function referenceSignature(req: { method: string; url: string; headers: Record<string, string>; body: string }, region: string, service: string): string {
  const url = new URL(req.url);
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  // Non-S3 services: each (already encoded) path segment is encoded again.
  const canonicalUri = url.pathname.split('/').map(enc).join('/');
  const canonicalQuery = [...url.searchParams]
    .map(([k, v]) => [enc(k), enc(v)])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = Object.entries({ ...req.headers, host: url.host }).map(([k, v]) => [k.toLowerCase(), v.trim()] as const);
  headers.sort(([a], [b]) => (a < b ? -1 : 1));
  const signedHeaders = headers.map(([k]) => k).join(';');
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');
  const canonical = [req.method, canonicalUri, canonicalQuery, headers.map(([k, v]) => `${k}:${v}\n`).join(''), signedHeaders, hash(req.body)].join('\n');
  const amzDate = req.headers['x-amz-date'];
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hash(canonical)].join('\n');
  const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();
  let key = hmac(`AWS4${CREDS.secretAccessKey}`, day);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${createHmac('sha256', key).update(toSign).digest('hex')}`;
}

describe('SigV4 signer', () => {
  it('produces an Authorization: AWS4-HMAC-SHA256 … SignedHeaders=… header and x-amz-date for a cloud endpoint', async () => {
    const sign = createSigner({ region: 'eu-west-1', credentials: CREDS });
    const body = JSON.stringify({ build: 3, percentage: 10 });
    const headers = await sign(
      {
        method: 'POST',
        url: `https://${HOST}${requestFor(createDeployment, { params: { productId: 'demo' }, body: { build: 3, percentage: 10 } }).path}`,
        headers: { 'content-type': 'application/json' },
        body,
      },
      DATE,
    );
    expect(headers['x-amz-date']).toBe('20240102T030405Z');
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240102\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
    const signed = /SignedHeaders=([^,]+)/.exec(headers.authorization)![1].split(';');
    expect(signed).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type']));
    // fetch derives Host from the URL; a second, hand-set Host header would be refused.
    expect(Object.keys(headers).map((k) => k.toLowerCase())).not.toContain('host');
  });

  it('matches an independent SigV4 implementation, including a MAC device id (double-encoded path) and a query', async () => {
    const sign = createSigner({ region: 'eu-west-1', credentials: CREDS });
    const url = `https://${HOST}${requestFor(getDevice, { params: { productId: 'demo', deviceId: 'AA:BB:CC:DD:EE:01' } }).path}?prefix=AA%3ABB&limit=5`;
    const headers = await sign({ method: 'GET', url, headers: { accept: 'application/json' } }, DATE);
    const { authorization, ...rest } = headers;
    expect(authorization).toBe(referenceSignature({ method: 'GET', url, headers: rest, body: '' }, 'eu-west-1', 'execute-api'));

    const body = '{"active":false}';
    const patchUrl = `https://${HOST}${requestFor(patchDevice, { params: { productId: 'demo', deviceId: 'dev 1' }, body: { active: false } }).path}`;
    const h2 = await sign({ method: 'PATCH', url: patchUrl, headers: { 'content-type': 'application/json' }, body }, DATE);
    const { authorization: a2, ...rest2 } = h2;
    expect(a2).toBe(referenceSignature({ method: 'PATCH', url: patchUrl, headers: rest2, body }, 'eu-west-1', 'execute-api'));
  });

  it('adds x-amz-security-token for temporary credentials (OIDC role sessions)', async () => {
    const sign = createSigner({ region: 'us-east-2', credentials: async () => ({ ...CREDS, sessionToken: 'SESSION' }) });
    const headers = await sign({ method: 'GET', url: 'https://x.execute-api.us-east-2.amazonaws.com/admin/v1/products/p', headers: {} }, DATE);
    expect(headers['x-amz-security-token']).toBe('SESSION');
    expect(headers.authorization).toContain('x-amz-security-token');
  });

  it('the API client signs requests to a cloud endpoint and leaves the local platform unsigned', async () => {
    const seen: { url: string; headers: Record<string, string> }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      seen.push({ url, headers: init.headers as Record<string, string> });
      return new Response(JSON.stringify({ product_id: 'p' }), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof fetch;
    const cloud = resolveConnection({ endpoint: `https://${HOST}/` }, {});
    expect(cloud).toMatchObject({ sign: true, local: false, region: 'eu-west-1', endpoint: `https://${HOST}` });
    await apiClientFor(cloud, { fetch: fakeFetch, signer: createSigner({ region: cloud.region!, credentials: CREDS }) }).call(getProduct, {
      params: { productId: 'p' },
    });
    expect(seen[0].url).toBe(`https://${HOST}/admin/v1/products/p`);
    expect(seen[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
    expect(seen[0].headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);

    const local = resolveConnection({}, {});
    expect(local).toMatchObject({ endpoint: 'http://127.0.0.1:3000', local: true, sign: false });
    await apiClientFor(local, { fetch: fakeFetch, signer: createSigner({ region: 'eu-west-1', credentials: CREDS }) }).call(getProduct, {
      params: { productId: 'p' },
    });
    expect(seen[1].headers.authorization).toBeUndefined();
    expect(seen[1].headers['x-amz-date']).toBeUndefined();
  });

  it('turns { error: { code, message } } and API Gateway denials into ApiError', async () => {
    const reply = (status: number, body: unknown) =>
      (async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })) as unknown as typeof fetch;
    const e1 = await createApiClient({
      endpoint: 'http://127.0.0.1:1',
      fetch: reply(409, { error: { code: 'invalid_state', message: 'Deployment is cancelled' } }),
    })
      .request('POST', '/x')
      .catch((e) => e);
    expect(e1).toBeInstanceOf(ApiError);
    expect(e1).toMatchObject({ status: 409, code: 'invalid_state', message: 'Deployment is cancelled' });
    const e2 = await createApiClient({ endpoint: 'http://127.0.0.1:1', fetch: reply(403, { message: 'Forbidden' }) })
      .request('GET', '/x')
      .catch((e) => e);
    expect(e2).toMatchObject({ status: 403, code: 'http_403', message: 'Forbidden' });
  });
});

describe('connection resolution', () => {
  it('reads the region from an execute-api host, else --region / AWS_REGION; a custom domain without one is an error', () => {
    expect(regionFromHost('abc.execute-api.ap-southeast-2.amazonaws.com')).toBe('ap-southeast-2');
    expect(regionFromHost('api.example.com')).toBeUndefined();
    expect(resolveConnection({ endpoint: 'https://ota.example.com', region: 'eu-central-1' }, {}).region).toBe('eu-central-1');
    expect(resolveConnection({ endpoint: 'https://ota.example.com' }, { AWS_REGION: 'us-west-2' })).toMatchObject({ region: 'us-west-2', sign: true });
    expect(() => resolveConnection({ endpoint: 'https://ota.example.com' }, {})).toThrow(CliError);
    expect(() => resolveConnection({ endpoint: 'ftp://x' }, {})).toThrow(/not an http/);
  });

  it('treats loopback hosts as the local platform', () => {
    for (const h of ['127.0.0.1', 'localhost', '[::1]', '127.1.2.3']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.5', 'abc.execute-api.eu-west-1.amazonaws.com', '127.0.0.1.nip.io']) expect(isLoopbackHost(h)).toBe(false);
    expect(resolveConnection({ endpoint: 'http://localhost:3000', sign: true, region: 'eu-west-1' }, {}).sign).toBe(true);
  });

  it('OTA_ENDPOINT / OTA_INGEST_BUCKET / OTA_S3_ENDPOINT, and the local s3rver only when nothing names a bucket', () => {
    expect(resolveConnection({}, {}).ingest).toEqual({ bucket: 'ota-ingest', s3Endpoint: 'http://127.0.0.1:4569' });
    expect(resolveConnection({}, { OTA_INGEST_BUCKET: 'prod-ingest', AWS_REGION: 'eu-west-1' }).ingest).toEqual({ bucket: 'prod-ingest' });
    expect(resolveConnection({ s3Endpoint: 'http://127.0.0.1:9999' }, {}).ingest).toEqual({ bucket: 'ota-ingest', s3Endpoint: 'http://127.0.0.1:9999' });
    const c = resolveConnection({ bucket: 'flag' }, { OTA_ENDPOINT: `https://${HOST}`, OTA_INGEST_BUCKET: 'env' });
    expect(c).toMatchObject({ endpoint: `https://${HOST}`, sign: true, ingest: { bucket: 'flag' } });
  });

  it('--stack-outputs reads AdminApiUrl, DeviceApiUrl and IngestBucketName from cdk-outputs.json; flags win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otactl-outputs-'));
    try {
      const file = join(dir, 'cdk-outputs.json');
      writeFileSync(
        file,
        JSON.stringify({
          OtaStack: {
            AdminApiUrl: `https://${HOST}/`,
            DeviceApiUrl: 'https://dev.execute-api.eu-west-1.amazonaws.com/',
            IngestBucketName: 'ota-ingest-123',
            CdnDomainName: 'd1.cloudfront.net',
          },
        }),
      );
      expect(resolveConnection({ stackOutputs: file }, {})).toEqual({
        endpoint: `https://${HOST}`,
        deviceEndpoint: 'https://dev.execute-api.eu-west-1.amazonaws.com',
        local: false,
        sign: true,
        region: 'eu-west-1',
        ingest: { bucket: 'ota-ingest-123' },
      });
      expect(resolveConnection({ stackOutputs: file, bucket: 'other' }, {}).ingest.bucket).toBe('other');
      writeFileSync(file, JSON.stringify({ A: { AdminApiUrl: 'https://a' }, B: { AdminApiUrl: 'https://b' } }));
      expect(() => resolveConnection({ stackOutputs: file }, {})).toThrow(/several stacks/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('flag parsing and rendering', () => {
  it('--schedule "1:60:0.95,10:60:0.95,100:0:0" becomes the schedule steps of the create body', () => {
    expect(parseSchedule('1:60:0.95,10:60:0.95,100:0:0')).toEqual([
      { percentage: 1, soak_minutes: 60, min_success_rate: 0.95 },
      { percentage: 10, soak_minutes: 60, min_success_rate: 0.95 },
      { percentage: 100, soak_minutes: 0, min_success_rate: 0 },
    ]);
    expect(() => parseSchedule('10:60')).toThrow(CliError);
    expect(() => parseSchedule('a:1:1')).toThrow(CliError);
    expect(deploymentBody({ build: 2, percentage: 5, groups: ['lab'], maxFailures: 3, maxFailureRate: 0.2, minSample: 10, timeoutMinutes: 30 })).toEqual({
      build: 2,
      percentage: 5,
      groups: ['lab'],
      max_failures: 3,
      max_failure_rate: 0.2,
      min_sample: 10,
      in_progress_timeout_minutes: 30,
    });
    expect(() => deploymentBody({ build: 2 })).toThrow(/--percentage or --schedule/);
  });

  it('a bad flag value is a one-line usage error with exit code 2, not a stack trace', async () => {
    const out = memoryOutput();
    expect(await run(['deploy', 'create', '--product', 'p', '--build', 'two', '--percentage', '5'], { out, env: {} })).toBe(2);
    expect(out.err()).toMatch(/^error: build must be an integer/m);
    expect(out.err()).not.toMatch(/\n\s+at /);
  });

  it('tables align, the progress bar draws only on a terminal', () => {
    expect(
      table(
        [
          { a: 'x', n: 5 },
          { a: 'longer', n: 123 },
        ],
        [
          { header: 'name', value: (r) => r.a },
          { header: 'n', value: (r) => r.n, right: true },
        ],
      ),
    ).toBe('NAME      N\nx         5\nlonger  123\n');
    expect(bar(0.5, 10)).toBe('[#####.....]  50%');
    const pipe = memoryOutput();
    new ProgressBar(pipe.stderr, 100).update(50, 'app.bin', true);
    expect(pipe.err()).toBe('');
    const tty = memoryOutput({ tty: true });
    new ProgressBar(tty.stderr, 100).update(50, 'app.bin', true);
    expect(tty.err()).toContain('50%');
  });

  it('a live table redraws in place on a terminal (cursor up + clear) and appends in a log', () => {
    const tty = memoryOutput({ tty: true });
    const live = new LiveBlock(tty.stdout);
    live.render('a\nb\n');
    live.render('c\nd\n');
    expect(tty.out()).toBe('a\nb\n\x1b[2A\x1b[0Jc\nd\n');
    const log = memoryOutput();
    const block = new LiveBlock(log.stdout);
    block.render('a\n');
    block.render('b\n');
    expect(log.out()).toBe('a\nb\n');
  });
});
