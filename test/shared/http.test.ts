import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { DomainError } from '../../lambdas/core/errors';
import { header, httpHandler, json, parseJsonBody, retryAfterSeconds } from '../../lambdas/shared/http';
import { createLogger } from '../../lambdas/shared/logger';

const event = (body?: string, extra: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 =>
  ({ version: '2.0', routeKey: 'POST /x', rawPath: '/x', rawQueryString: '', headers: {}, isBase64Encoded: false, body, ...extra }) as never;
const ctx = {} as Context;
process.env.OTA_SILENT = '1';

describe('parseJsonBody', () => {
  it('parses a JSON object, plain or base64', () => {
    expect(parseJsonBody(event('{"a":1}'))).toEqual({ a: 1 });
    expect(parseJsonBody(event(Buffer.from('{"a":2}').toString('base64'), { isBase64Encoded: true }))).toEqual({ a: 2 });
  });
  it.each([
    ['not json', 'invalid_json'],
    ['[1,2]', 'invalid_json'],
    ['null', 'invalid_json'],
    ['', 'invalid_json'],
  ])('rejects %p with %s', (body, code) => {
    expect(() => parseJsonBody(event(body))).toThrow(expect.objectContaining({ kind: 'invalid', code }));
  });
  it('rejects an oversized body as too_large', () => {
    expect(() => parseJsonBody(event(`{"a":"${'x'.repeat(20000)}"}`))).toThrow(expect.objectContaining({ kind: 'too_large' }));
  });
  it('finds headers case-insensitively', () => {
    expect(header(event('', { headers: { 'Device-Id': 'x' } }), 'device-id')).toBe('x');
  });
});

describe('httpHandler error mapping', () => {
  const logger = createLogger('test');
  it('maps a DomainError to its 4xx with a JSON error code', async () => {
    const h = httpHandler(logger, async () => {
      throw new DomainError('invalid', 'bad_thing', 'Bad thing');
    });
    const r = await h(event('{}'), ctx);
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body!)).toEqual({ error: { code: 'bad_thing', message: 'Bad thing' } });
  });
  it('maps any other error to 503 with Retry-After and no internals', async () => {
    const h = httpHandler(logger, async () => {
      throw new Error('socket hang up at 10.0.0.1');
    });
    const r = await h(event('{}'), ctx);
    expect(r.statusCode).toBe(503);
    expect(Number(r.headers!['retry-after'])).toBeGreaterThanOrEqual(20);
    expect(r.body).not.toContain('10.0.0.1');
  });
  it('lets a protocol adapter shape its own error body', async () => {
    const h = httpHandler(
      logger,
      async () => {
        throw new DomainError('invalid', 'x', 'y');
      },
      { onError: () => json(400, { code: 400, msg: 'custom' }) },
    );
    expect(JSON.parse((await h(event('{}'), ctx)).body!)).toEqual({ code: 400, msg: 'custom' });
  });
  it('passes successful responses through', async () => {
    const h = httpHandler(logger, async () => json(200, { ok: true }));
    expect((await h(event('{}'), ctx)).statusCode).toBe(200);
  });
  it('jitters Retry-After within 20..59 s', () => {
    expect(retryAfterSeconds(() => 0)).toBe(20);
    expect(retryAfterSeconds(() => 0.999)).toBe(59);
  });
});
