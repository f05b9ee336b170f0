/**
 * The API Gateway twin: the event shape handlers receive (HTTP API payload v2.0) and the
 * gateway's own answers (404/405/403/413/500), as API Gateway gives them.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { newDeviceToken, splitIdAndToken } from '../../../lambdas/core/security';
import { FUNCTION_TIMEOUT_SECONDS } from '../../../lambdas/shared/timeouts';
import { functionDeadlineMs, redactRequestTarget, startGateway, type Gateway, type HttpFunction } from '../../../lib/local/gateway';

let gw: Gateway;
let untrustedGw: Gateway;
const seen: APIGatewayProxyEventV2[] = [];
const echo: HttpFunction = async (event) => {
  seen.push(event);
  return { statusCode: 200, headers: { 'X-Echo': 'yes' }, body: JSON.stringify({ ok: true }) };
};
const functions = {
  check: echo,
  status: async () => {
    throw new Error('boom');
  },
  admin: echo,
};

beforeAll(async () => {
  gw = await startGateway({ functions, host: '127.0.0.1', port: 0 });
  untrustedGw = await startGateway({ functions, host: '127.0.0.1', port: 0, isTrustedClient: () => false });
});
afterAll(async () => {
  await gw?.stop();
  await untrustedGw?.stop();
});

const last = () => seen[seen.length - 1]!;

it('turns a device request into an API Gateway v2.0 event, with or without the trailing slash', async () => {
  for (const path of ['/api/v1/ota/check', '/api/v1/ota/check/']) {
    const r = await fetch(`${gw.url}${path}?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Mixed-Case': 'v' },
      body: '{"p":1}',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-echo')).toBe('yes');
    const e = last();
    expect(e).toMatchObject({
      version: '2.0',
      routeKey: 'POST /api/v1/ota/check',
      rawPath: path,
      rawQueryString: 'a=1&a=2&b=x',
      queryStringParameters: { a: '1,2', b: 'x' },
      body: '{"p":1}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path }, routeKey: 'POST /api/v1/ota/check', stage: '$default' },
    });
    expect(e.headers['x-mixed-case']).toBe('v');
    expect(e.requestContext.requestId).toMatch(/[0-9a-f-]{36}/);
  }
});

it('fills path parameters from the route table and base64-encodes binary bodies', async () => {
  await fetch(`${gw.url}/admin/v1/products/ctrl/firmware/7/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const e = last();
  expect(e.routeKey).toBe('POST /admin/v1/products/{productId}/firmware/{build}/release');
  expect(e.pathParameters).toEqual({ productId: 'ctrl', build: '7' });
  // Binary bodies reach device routes only (operator bodies must be JSON).
  const bytes = Buffer.from([0xe9, 0x00, 0xff, 0x10]);
  await fetch(`${gw.url}/toy/ota`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  const b = last();
  expect(b.routeKey).toBe('POST /toy/ota');
  expect(b.isBase64Encoded).toBe(true);
  expect(Buffer.from(b.body!, 'base64').equals(bytes)).toBe(true);
});

it('answers 404 for unknown paths and 405 for a known path with another method', async () => {
  expect((await fetch(`${gw.url}/nope`)).status).toBe(404);
  const r = await fetch(`${gw.url}/api/v1/ota/check`);
  expect(r.status).toBe(405);
  expect(await r.json()).toEqual({ message: 'Method Not Allowed' });
});

it('keeps operator routes to trusted (loopback) clients', async () => {
  const r = await fetch(`${untrustedGw.url}/admin/v1/products/ctrl`);
  expect(r.status).toBe(403);
  expect((await fetch(`${untrustedGw.url}/api/v1/ota/check`, { method: 'POST', body: '{}' })).status).toBe(200);
});

it('answers 413 beyond the 10 MB payload limit', async () => {
  const r = await fetch(`${gw.url}/api/v1/ota/check`, { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1) });
  expect(r.status).toBe(413);
});

it('answers 413 when the event would exceed the 6 MB Lambda payload (a 5 MB binary body is 6.7 MB in base64)', async () => {
  const r = await fetch(`${gw.url}/api/v1/ota/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(5 * 1024 * 1024),
  });
  expect(r.status).toBe(413);
  const ok = await fetch(`${gw.url}/api/v1/ota/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(4 * 1024 * 1024),
  });
  expect(ok.status).toBe(200);
});

it('maps a function that throws to 500 like API Gateway', async () => {
  const r = await fetch(`${gw.url}/api/v1/ota/status`, { method: 'POST', body: '{}' });
  expect(r.status).toBe(500);
  expect(await r.json()).toEqual({ message: 'Internal Server Error' });
});

describe('function timeouts', () => {
  it('expect the Lambda timeout of each function to come from the shared table, capped at API Gateway 30 s', () => {
    expect(functionDeadlineMs('check')).toBe(FUNCTION_TIMEOUT_SECONDS.check * 1000);
    expect(functionDeadlineMs('upload')).toBe(30_000);
  });

  it('expect a function that outlives its timeout to be answered 503 + Retry-After at the deadline', async () => {
    const hang: HttpFunction = () => new Promise(() => undefined);
    const slow = await startGateway({ functions: { check: hang }, host: '127.0.0.1', port: 0, timeoutMs: { check: 300 } });
    try {
      const t0 = Date.now();
      const r = await fetch(`${slow.url}/api/v1/ota/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(r.status).toBe(503);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await r.json()).toMatchObject({ message: 'Service Unavailable', error: { code: 'function_timeout' } });
    } finally {
      await slow.stop();
    }
  });
});

describe('request log', () => {
  it.each([
    ['/api/v1/ota/arduino/p1?token=s3cr3t&x=1', '/api/v1/ota/arduino/p1?token=REDACTED&x=1'],
    ['/ota/c/0a1b?product_key=k3y&current_version=1.0.0', '/ota/c/0a1b?product_key=REDACTED&current_version=1.0.0'],
    ['/f?Signature=abc&Key-Pair-Id=K1&Expires=9', '/f?Signature=REDACTED&Key-Pair-Id=REDACTED&Expires=9'],
  ])('expect %s to be logged as %s', (target, logged) => {
    expect(redactRequestTarget(target)).toBe(logged);
  });

  it('expect the token half of an IoTaaP download path never to be logged', async () => {
    const lines: string[] = [];
    const logged = await startGateway({ functions, host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
    try {
      const secret = newDeviceToken();
      expect(splitIdAndToken(`dev-1${secret}`)).toEqual({ deviceId: 'dev-1', token: secret });
      await fetch(`${logged.url}/v1/ota/device/download/dev-1${secret}`);
      await fetch(`${logged.url}/api/v1/ota/arduino/p1?token=${secret}`);
      expect(lines).toHaveLength(2);
      expect(lines.join('\n')).not.toContain(secret);
      expect(lines[0]).toContain('/v1/ota/device/download/dev-1REDACTED');
      expect(lines[1]).toContain('token=REDACTED');
    } finally {
      await logged.stop();
    }
  });
});
