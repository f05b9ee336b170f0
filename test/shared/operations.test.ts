/**
 * The operations dispatcher: implementations are keyed by the contract's declarations (a missing
 * or undeclared one is a type error, checked by `tsc --noEmit` in `npm test`), requests are parsed
 * by the declaration before an implementation runs, and protocol error shapes win over the shared one.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { operation } from '../../lambdas/contract/operation';
import { deviceIdParam, ErrorBody, named, productIdParam } from '../../lambdas/contract/schema';
import { json } from '../../lambdas/shared/http';
import { createLogger } from '../../lambdas/shared/logger';
import { operationsHandler, parseRequest, type Implementations } from '../../lambdas/shared/operations';

const Thing = named('TestThing', z.object({ product_id: z.string(), device_id: z.string(), n: z.number() }));
const getThing = operation({
  id: 'getThing',
  method: 'GET',
  path: '/t/{productId}/{deviceId}',
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'test',
  params: z.object({ productId: productIdParam(), deviceId: deviceIdParam() }),
  query: z.object({ n: z.optional(z.coerce.number().check(z.int(), z.gte(1))) }),
  responses: { 200: { description: 'ok', body: Thing }, 404: { description: 'nope', body: ErrorBody } },
});
const putThing = operation({
  id: 'putThing',
  method: 'PUT',
  path: '/t/{productId}',
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'test',
  params: z.object({ productId: productIdParam() }),
  body: { schema: named('TestPut', z.strictObject({ n: z.number() })), required: true },
  responses: { 201: { description: 'made', body: Thing } },
});
const OPS = [getThing, putThing];

const event = (routeKey: string, pathParameters: Record<string, string>, extra: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 =>
  ({ routeKey, rawPath: '/', pathParameters, headers: {}, requestContext: {}, isBase64Encoded: false, ...extra }) as unknown as APIGatewayProxyEventV2;
const ctx = { awsRequestId: 'r1' } as Context;

const impls: Implementations<(typeof OPS)[number]> = {
  getThing: async (req) => req.reply(200, { product_id: req.params.productId, device_id: req.params.deviceId, n: req.query.n ?? 0 }),
  putThing: async (req) => req.reply(201, { product_id: req.params.productId, device_id: '-', n: req.body.n }),
};
const handler = operationsHandler(createLogger('test'), OPS, impls);

describe('Implementations (types)', () => {
  it('expect a missing, an extra or a mistyped implementation to be a type error', () => {
    // @ts-expect-error putThing is not implemented
    const missing: Implementations<(typeof OPS)[number]> = { getThing: impls.getThing };
    const extra: Implementations<(typeof OPS)[number]> = {
      ...impls,
      // @ts-expect-error no such operation
      deleteThing: impls.getThing,
    };
    const wrongBody: Implementations<typeof getThing> = {
      // @ts-expect-error n must be a number
      getThing: async (req) => req.reply(200, { product_id: 'p', device_id: 'd', n: 'x' }),
    };
    const wrongStatus: Implementations<typeof getThing> = {
      // @ts-expect-error 201 is not a declared status of getThing
      getThing: async (req) => req.reply(201, { product_id: 'p', device_id: 'd', n: 1 }),
    };
    expect([missing, extra, wrongBody, wrongStatus]).toHaveLength(4);
  });
});

describe('parseRequest', () => {
  it('expect path parameters validated and normalised by their schema', () => {
    const r = parseRequest(getThing, event('GET /t/{productId}/{deviceId}', { productId: 'p1', deviceId: '246f28a0b1c2' }));
    expect(r.params).toEqual({ productId: 'p1', deviceId: '24:6F:28:A0:B1:C2' });
  });

  it('expect a garbage path parameter to be a 400 naming that parameter, before any implementation runs', () => {
    expect(() => parseRequest(getThing, event('', { productId: 'p1', deviceId: 'x'.repeat(3000) }))).toThrow(
      expect.objectContaining({ code: 'invalid_device_id' }),
    );
    expect(() => parseRequest(getThing, event('', { productId: 'NOT VALID', deviceId: 'd' }))).toThrow(expect.objectContaining({ code: 'invalid_product_id' }));
  });

  it('expect query and body parsed by the declared schemas', () => {
    expect(parseRequest(getThing, event('', { productId: 'p', deviceId: 'd' }, { queryStringParameters: { n: '3' } })).query).toEqual({ n: 3 });
    expect(() => parseRequest(putThing, event('', { productId: 'p' }, { body: '{"n":1,"x":2}' }))).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
    expect(() => parseRequest(putThing, event('', { productId: 'p' }, { body: '' }))).toThrow(expect.objectContaining({ code: 'invalid_json' }));
  });
});

describe('operationsHandler', () => {
  it('expect the route key to pick the implementation and the answer to be its reply', async () => {
    const r = await handler(event('GET /t/{productId}/{deviceId}', { productId: 'p', deviceId: 'd' }), ctx);
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body!)).toEqual({ product_id: 'p', device_id: 'd', n: 0 });
    const put = await handler(event('PUT /t/{productId}', { productId: 'p' }, { body: '{"n":7}' }), ctx);
    expect(put.statusCode).toBe(201);
  });

  it('expect invalid input to be the shared 400 envelope, and an unknown route a 404', async () => {
    const bad = await handler(event('GET /t/{productId}/{deviceId}', { productId: 'p', deviceId: '!!' }), ctx);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body!).error.code).toBe('invalid_device_id');
    expect((await handler(event('GET /nope', {}), ctx)).statusCode).toBe(404);
  });

  it("expect a protocol's own error shape to win, including for parameter errors, and faults to be a 503", async () => {
    const shaped = operationsHandler(createLogger('test'), [getThing], {
      getThing: {
        handle: async () => Promise.reject(new Error('db down')),
        onError: (e: unknown) => (e instanceof Error && 'code' in e ? json(400, { msg: 'bad' }) : undefined),
      },
    });
    const bad = await shaped(event('GET /t/{productId}/{deviceId}', { productId: 'p', deviceId: '!!' }), ctx);
    expect([bad.statusCode, JSON.parse(bad.body!)]).toEqual([400, { msg: 'bad' }]);
    const fault = await shaped(event('GET /t/{productId}/{deviceId}', { productId: 'p', deviceId: 'd' }), ctx);
    expect(fault.statusCode).toBe(503);
    expect(fault.headers?.['retry-after']).toMatch(/^\d+$/);
  });
});
