/**
 * Every AWS client gives up in bounded time: against a peer that accepts connections and never
 * answers, a DynamoDB call and the Secrets Manager key read fail within their budgets
 * (lambdas/shared/timeouts.ts) after exactly `maxAttempts` attempts, and the error maps to
 * 503 + Retry-After; the S3 client carries its budget too.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../../lambdas/shared/aws';
import { httpHandler } from '../../lambdas/shared/http';
import { createLogger } from '../../lambdas/shared/logger';
import { createS3Client } from '../../lambdas/shared/s3';
import { DYNAMODB_BUDGET, S3_BUDGET, SECRETS_BUDGET, worstCaseMs } from '../../lambdas/shared/timeouts';
import { urlSignerFromEnv } from '../../lambdas/shared/url-signer';

jest.setTimeout(20_000);
process.env.OTA_SILENT = '1';

let blackhole: Server;
let endpoint: string;
let requests = 0;
const sockets = new Set<Socket>();
beforeAll(async () => {
  blackhole = createServer((s) => {
    sockets.add(s);
    s.on('data', (chunk) => {
      if (/^(POST|GET) /.test(chunk.toString('latin1', 0, 5))) requests += 1;
    });
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(blackhole.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => blackhole.close(r));
});
beforeEach(() => (requests = 0));

async function timed(f: () => Promise<unknown>): Promise<{ error: any; ms: number }> {
  const t0 = Date.now();
  const error = await f().then(
    () => undefined,
    (e) => e,
  );
  return { error, ms: Date.now() - t0 };
}

describe('DynamoDB client', () => {
  it('expect a hung table to fail in ~2 × 1.5 s after 2 attempts, mapped to 503 + Retry-After', async () => {
    const ddb = createDocumentClient(endpoint);
    const h = httpHandler(createLogger('test'), async () => {
      await ddb.send(new GetCommand({ TableName: 't', Key: { pk: 'x' } }));
      return { statusCode: 200, body: '' };
    });
    const { error, ms } = await timed(async () => {
      const r = await h({ version: '2.0', routeKey: 'GET /x', rawPath: '/x', headers: {} } as never, {} as Context);
      expect(r.statusCode).toBe(503);
      expect(Number(r.headers!['retry-after'])).toBeGreaterThan(0);
    });
    expect(error).toBeUndefined();
    expect(ms).toBeGreaterThanOrEqual(DYNAMODB_BUDGET.requestTimeoutMs * DYNAMODB_BUDGET.maxAttempts - 100);
    expect(ms).toBeLessThan(worstCaseMs(DYNAMODB_BUDGET));
    expect(requests).toBe(DYNAMODB_BUDGET.maxAttempts);
    ddb.destroy();
  });
});

describe('Secrets Manager client (signing key)', () => {
  const saved = { ...process.env };
  afterEach(() => (process.env = { ...saved }));

  it('expect a hung Secrets Manager to fail the key read within its budget, and the next call to try again', async () => {
    Object.assign(process.env, {
      SIGNING_KEY_SECRET_ID: 'ota/signing-key',
      CDN_BASE_URL: 'https://cdn.example',
      SIGNING_KEY_PAIR_ID: 'KTEST',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
    });
    delete process.env.SIGNING_PRIVATE_KEY_PEM;
    const signer = urlSignerFromEnv();
    const first = await timed(() => signer.sign('p/1/app.bin'));
    expect(first.error?.name).toBe('TimeoutError');
    expect(first.ms).toBeLessThan(worstCaseMs(SECRETS_BUDGET));
    expect(requests).toBe(SECRETS_BUDGET.maxAttempts);
    // Not cached as failed: the next offer asks again.
    const second = await timed(() => signer.sign('p/1/app.bin'));
    expect(second.error?.name).toBe('TimeoutError');
    expect(requests).toBe(2 * SECRETS_BUDGET.maxAttempts);
  });
});

describe('S3 client', () => {
  it('expect the S3 budget on the client', async () => {
    const s3 = createS3Client(endpoint, { accessKeyId: 'a', secretAccessKey: 'b' });
    expect(await s3.config.maxAttempts()).toBe(S3_BUDGET.maxAttempts);
    const handlerConfig = await (s3.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> }).configProvider;
    expect(handlerConfig).toMatchObject({
      connectionTimeout: S3_BUDGET.connectionTimeoutMs,
      requestTimeout: S3_BUDGET.requestTimeoutMs,
      throwOnRequestTimeout: true,
    });
    s3.destroy();
  });
});
