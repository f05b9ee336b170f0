/**
 * Protocols whose contract answers an outage with a non-5xx status (Cheeko `POST /toy/ota` 200
 * `{ "error" }`, Cheeko activation 202, IoTaaP 404) still tell the truth: the answer carries
 * Retry-After, and the fault is counted in the `MaskedFault` metric (API Gateway's 5xx metric,
 * and so its alarm, never sees these). Forced DynamoDB fault on the real platform, over HTTP.
 */
import { documentClient } from '../../lambdas/shared/aws';
import { METRIC, flushMetrics } from '../../lambdas/shared/metrics';
import { startTestPlatform, type TestPlatform } from '../support/platform';

let t: TestPlatform;
let dynamoDown = false;
beforeAll(async () => {
  t = await startTestPlatform();
  documentClient().middlewareStack.add(
    (next) => async (args) => {
      if (dynamoDown) throw Object.assign(new Error('injected DynamoDB outage'), { name: 'InternalServerError' });
      return next(args);
    },
    { step: 'initialize', name: 'maskedFaultInjection' },
  );
});
afterAll(() => t?.platform.stop());

let emitted: string[] = [];
/** Runs `f` with DynamoDB down and metrics on (as in Lambda), capturing the EMF lines written. */
async function duringOutage<T>(f: () => Promise<T>): Promise<T> {
  const saved = { fn: process.env.AWS_LAMBDA_FUNCTION_NAME, silent: process.env.OTA_SILENT };
  emitted = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    if (String(chunk).includes('"_aws"')) return emitted.push(String(chunk)) > 0;
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as never);
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'ota-check';
  delete process.env.OTA_SILENT;
  dynamoDown = true;
  try {
    return await f();
  } finally {
    dynamoDown = false;
    flushMetrics();
    spy.mockRestore();
    if (saved.fn === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    else process.env.AWS_LAMBDA_FUNCTION_NAME = saved.fn;
    process.env.OTA_SILENT = saved.silent ?? '1';
  }
}

/** MaskedFault counts in the captured EMF lines, by Route, with the dimension sets each was published under. */
const maskedFaults = (): { byRoute: Record<string, number>; dimensions: string[][][] } => {
  const byRoute: Record<string, number> = {};
  const dimensions: string[][][] = [];
  for (const line of emitted.join('').split('\n').filter(Boolean)) {
    const emf = JSON.parse(line);
    if (emf[METRIC.maskedFault] === undefined) continue;
    byRoute[emf.Route] = (byRoute[emf.Route] ?? 0) + Number(emf[METRIC.maskedFault]);
    dimensions.push(emf._aws.CloudWatchMetrics[0].Dimensions);
  }
  return { byRoute, dimensions };
};
/** Counted once, fleet-wide (the alarmed series, no dimensions) and per route. */
const countedOnce = (route: string) => expect(maskedFaults()).toEqual({ byRoute: { [route]: 1 }, dimensions: [[[], ['Route']]] });

let n = 0;
const mac = () => `AA:BB:CC:EE:00:${(++n).toString(16).padStart(2, '0')}`;

describe('faults answered with a documented non-5xx status', () => {
  it('expect Cheeko POST /toy/ota to answer 200 { "error" } with Retry-After, counted', async () => {
    const m = mac();
    const r = await duringOutage(() => t.api.post('/toy/ota', { mac: m, application: `fault-${n}`, version: '1.0.0' }, { 'device-id': m }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ error: 'Internal server error' });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    countedOnce('POST /toy/ota');
  });

  it('expect the Cheeko activation to answer 202 with an empty body and Retry-After, counted', async () => {
    const m = mac();
    const r = await duringOutage(() => t.api.post('/toy/ota/activate', { mac: m, application: `fault-${n}` }, { 'device-id': m }));
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    countedOnce('POST /toy/ota/activate');
  });

  it('expect IoTaaP latest to answer the documented 404 with Retry-After, counted', async () => {
    const r = await duringOutage(() => t.api.get(`/v1/ota/device/latest/5e1b5780${String(++n).padStart(16, '0')}`));
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ message: 'No such device' });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    countedOnce('GET /v1/ota/device/*');
  });

  it('expect ordinary answers of those routes to carry no Retry-After and count nothing', async () => {
    const m = mac();
    emitted = [];
    const r = await t.api.post('/toy/ota/activate', { mac: m }, { 'device-id': m });
    expect(r.status).toBe(202);
    expect(r.headers.get('retry-after')).toBeNull();
    const c = await t.api.post('/toy/ota', { mac: m, version: '1.0.0' }, { 'device-id': m });
    expect(c.status).toBe(200);
    expect(c.headers.get('retry-after')).toBeNull();
  });
});
