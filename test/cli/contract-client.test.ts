/** lambdas/contract/client.ts: the requests a typed client derives from the declarations, and the types it checks. */
import * as z from 'zod/mini';
import { requestFor, strictEncode, type CallArgs, type SuccessBody } from '../../lambdas/contract/client';
import { operation } from '../../lambdas/contract/operation';
import {
  assignBuild,
  cancelAssignment,
  clearFailedBuilds,
  createDeployment,
  getDevice,
  getFirmware,
  listDevices,
  patchDevice,
  putProduct,
  revokeFirmware,
  type Assignment,
  type Device,
  type RevokedFirmware,
} from '../../lambdas/contract/operator';
import { strictEncode as apiStrictEncode } from '../../lib/cli/api';

/** Not a platform operation: one without params whose successes differ (a body, another body, none). */
const ping = operation({
  id: 'ping',
  method: 'POST',
  path: '/ping',
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'test only',
  body: { schema: z.object({ n: z.number() }), required: false },
  responses: {
    200: { description: 'pong', body: z.object({ pong: z.literal(true) }) },
    202: { description: 'later', body: [z.object({ queued: z.number() }), z.object({ retry_at: z.string() })] },
    204: { description: 'nothing' },
    400: 'BadRequest',
  },
});

/** Compile-time equality: `expectType<Equal<A, B>>(true)` fails tsc unless A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(ok: T): T => ok;

describe('strictEncode', () => {
  it("expect !'()* percent-encoded when encodeURIComponent leaves them alone", () => {
    expect(strictEncode("a!b'c(d)e*f")).toBe('a%21b%27c%28d%29e%2Af');
    expect(strictEncode('AA:BB')).toBe('AA%3ABB');
  });

  it('expect the CLI to re-export the same function when it imports it from lib/cli/api', () => {
    expect(apiStrictEncode).toBe(strictEncode);
  });
});

describe('requestFor', () => {
  it('expect each {param} filled and the colons of a MAC device id encoded when the path has several params', () => {
    const r = requestFor(getDevice, { params: { productId: 'demo', deviceId: 'AA:BB:CC:DD:EE:FF' } });
    expect(r).toEqual({ method: 'GET', path: '/admin/v1/products/demo/devices/AA%3ABB%3ACC%3ADD%3AEE%3AFF', query: undefined, body: undefined });
  });

  it("expect !'()* and spaces encoded RFC 3986 style when a param holds them", () => {
    const r = requestFor(patchDevice, { params: { productId: 'demo', deviceId: "dev (1)!'*" }, body: { active: false } });
    expect(r.path).toBe('/admin/v1/products/demo/devices/dev%20%281%29%21%27%2A');
  });

  it('expect a missing param to throw, naming the operation and the param, when the args lack it', () => {
    const args = { params: { productId: 'demo' } } as unknown as CallArgs<typeof getFirmware>;
    expect(() => requestFor(getFirmware, args)).toThrow('getFirmware: path parameter build is missing');
    const empty = { params: { productId: '', deviceId: 'x' } };
    expect(() => requestFor(getDevice, empty)).toThrow('getDevice: path parameter productId is missing');
  });

  it('expect query and body passed through unchanged when the operation takes them', () => {
    const query = { prefix: 'AA:BB', limit: 5 };
    expect(requestFor(listDevices, { params: { productId: 'p' }, query })).toEqual({
      method: 'GET',
      path: '/admin/v1/products/p/devices',
      query,
      body: undefined,
    });
    const body = { build: 3, percentage: 12.5, groups: ['lab'] };
    const r = requestFor(createDeployment, { params: { productId: 'p' }, body });
    expect(r).toEqual({ method: 'POST', path: '/admin/v1/products/p/deployments', query: undefined, body });
    expect(r.body).toBe(body);
  });

  it('expect the method and path of the declaration when the operation answers without a body of its own', () => {
    expect(requestFor(cancelAssignment, { params: { productId: 'p', deviceId: 'd1' } })).toMatchObject({
      method: 'DELETE',
      path: '/admin/v1/products/p/devices/d1/assignment',
    });
    expect(requestFor(clearFailedBuilds, { params: { productId: 'p', deviceId: 'd1' }, query: { build: 4 } }).query).toEqual({ build: 4 });
  });
});

describe('CallArgs and SuccessBody (checked by tsc)', () => {
  it('expect a type error when a body field is misspelt, a required body is left out or a param is wrong', () => {
    // @ts-expect-error `percent` is not a field of the create body (strict: `percentage`)
    requestFor(createDeployment, { params: { productId: 'p' }, body: { build: 1, percent: 5 } });
    // @ts-expect-error the create body is required
    requestFor(createDeployment, { params: { productId: 'p' } });
    // @ts-expect-error the build path parameter is a string in the contract
    requestFor(getFirmware, { params: { productId: 'p', build: 3 } });
    // @ts-expect-error getDevice takes no body
    requestFor(getDevice, { params: { productId: 'p', deviceId: 'd' }, body: {} });
    // @ts-expect-error security_mode is an enum
    requestFor(putProduct, { params: { productId: 'p' }, body: { chip: 'esp32', security_mode: 'public' } });
    expect(true).toBe(true);
  });

  it('expect the output types of the success replies when an operation declares them', () => {
    expectType<Equal<SuccessBody<typeof getDevice>, z.output<typeof Device>>>(true);
    expectType<Equal<SuccessBody<typeof revokeFirmware>, z.output<typeof RevokedFirmware>>>(true);
    // 200 (already assigned) and 201 (assigned) answer with the same view.
    expectType<Equal<SuccessBody<typeof assignBuild>, z.output<typeof Assignment>>>(true);
    expectType<Equal<SuccessBody<typeof cancelAssignment>, { cancelled: true }>>(true);
    expectType<Equal<SuccessBody<typeof ping>, { pong: true } | { queued: number } | { retry_at: string } | undefined>>(true);
    expect(true).toBe(true);
  });

  it('expect params forbidden and the body optional when the operation has no params and an optional body', () => {
    expect(requestFor(ping, {})).toEqual({ method: 'POST', path: '/ping', query: undefined, body: undefined });
    expect(requestFor(ping, { body: { n: 1 } }).body).toEqual({ n: 1 });
    // @ts-expect-error ping has no path parameters
    requestFor(ping, { params: { productId: 'p' } });
  });
});
