/**
 * The API Gateway twin: the event shape handlers receive (HTTP API payload v2.0) and the
 * gateway's own answers (404/405/403/413/500), as API Gateway gives them.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startGateway, type Gateway, type HttpFunction } from '../../../lib/local/gateway';

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
    const r = await fetch(`${gw.url}${path}?a=1&a=2&b=x`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Mixed-Case': 'v' }, body: '{"p":1}' });
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
  const bytes = Buffer.from([0xe9, 0x00, 0xff, 0x10]);
  await fetch(`${gw.url}/admin/v1/products/ctrl/firmware/7/release`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  const e = last();
  expect(e.routeKey).toBe('POST /admin/v1/products/{productId}/firmware/{build}/release');
  expect(e.pathParameters).toEqual({ productId: 'ctrl', build: '7' });
  expect(e.isBase64Encoded).toBe(true);
  expect(Buffer.from(e.body!, 'base64').equals(bytes)).toBe(true);
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
  const r = await fetch(`${gw.url}/api/v1/ota/check`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(5 * 1024 * 1024) });
  expect(r.status).toBe(413);
  const ok = await fetch(`${gw.url}/api/v1/ota/check`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(4 * 1024 * 1024) });
  expect(ok.status).toBe(200);
});

it('maps a function that throws to 500 like API Gateway', async () => {
  const r = await fetch(`${gw.url}/api/v1/ota/status`, { method: 'POST', body: '{}' });
  expect(r.status).toBe(500);
  expect(await r.json()).toEqual({ message: 'Internal Server Error' });
});
