/**
 * A sick database ends in a fast, honest answer: with DynamoDB black-holed (connections accepted,
 * never answered) or slow, a device check answers 503 + Retry-After within a few seconds (the
 * clients' own timeouts and retry budget, lambdas/shared/timeouts.ts, not the function timeout),
 * and the very next call after the database heals succeeds (nothing poisoned is cached).
 * Real platform over HTTP; the fault is a TCP proxy between the functions and dynalite.
 */
import { DYNAMODB_BUDGET, FUNCTION_TIMEOUT_SECONDS, worstCaseMs } from '../../lambdas/shared/timeouts';
import type { LocalPlatform } from '../../lib/local/platform';
import { buildEspImage } from '../fixtures/esp-image';
import type { FaultProxy } from '../support/fault-proxy';
import type { HttpClient } from '../support/http-client';
import { startFaultyTestPlatform, type FaultyTestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

jest.setTimeout(60_000);
let faulty: FaultyTestPlatform;
let platform: LocalPlatform;
let proxy: FaultProxy;
let api: HttpClient;

beforeAll(async () => {
  faulty = await startFaultyTestPlatform();
  ({ platform, api, proxy } = faulty);
  await api.put('/admin/v1/products/sick', { chip: 'esp32', security_mode: 'open', firmware_type: 'Sick Board' });
  await publishRelease(platform, { product: 'sick', version: '1.0.0', files: { 'app.bin': buildEspImage({ version: '1.0.0' }) }, manifest: { release: true } });
  await api.post('/admin/v1/products/sick/deployments', { build: 1, percentage: 100 });
});
afterAll(() => faulty?.stop());

const check = () => api.post('/api/v1/ota/check', { product: 'sick', device_id: 'AA:BB:CC:DD:00:01', version: '0.1.0' });

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const r = await f();
  return [r, Date.now() - t0];
}

describe('device check with a sick DynamoDB', () => {
  it('expect the budget of one call to fit well inside the device function timeout', () => {
    expect(worstCaseMs(DYNAMODB_BUDGET)).toBeLessThan(FUNCTION_TIMEOUT_SECONDS.check * 1000 * 0.6);
  });

  it('expect a healthy check through the proxy first', async () => {
    const r = await check();
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('update_available');
    expect(proxy.connections).toBeGreaterThan(0);
  });

  it.each([
    ['black-holed', () => proxy.blackhole()],
    ['slow (5 s per request)', () => proxy.delay(5000)],
  ])('expect a %s table to yield 503 + Retry-After within a few seconds, and the next call after healing to succeed', async (_, sicken) => {
    sicken();
    const [r, ms] = await timed(check);
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('unavailable'); // the handler's own answer, not the gateway's function timeout
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(ms).toBeLessThan(worstCaseMs(DYNAMODB_BUDGET) + 1500);

    proxy.heal();
    const [ok, okMs] = await timed(check);
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('update_available');
    expect(okMs).toBeLessThan(2000);
  });
});
