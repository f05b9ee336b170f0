/**
 * Device quota: a device takes one slot, once, whatever its concurrent requests do; a slot never
 * leaks when registration fails after the claim; N slots register exactly N distinct devices.
 * Over HTTP on the local platform, plus a CheckService over the same dynalite with an injected
 * registration fault.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Product } from '../../lambdas/core/model';
import { CheckService } from '../../lambdas/shared/check-service';
import type { ProductConfigCache } from '../../lambdas/shared/config-cache';
import type { DeploymentStore } from '../../lambdas/shared/store/deployment-store';
import { DeviceStore } from '../../lambdas/shared/store/device-store';
import type { UrlSigner } from '../../lambdas/shared/url-signer';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

jest.setTimeout(60_000);
let t: TestPlatform;
let store: DeviceStore;

beforeAll(async () => {
  t = await startTestPlatform();
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: t.platform.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  store = new DeviceStore(doc, t.platform.tableNames.DEVICES_TABLE);
});
afterAll(() => t?.platform.stop());

const check = (product: string, id: string) => t.api.post('/api/v1/ota/check/', { product, device_id: id, version: '0.9.0' });

it('50 concurrent first checks of one new device: all answered as a device, one slot used', async () => {
  await createProduct(t.api, 'q50', { auto_register: true, device_quota: 10 });
  const fw = await publishRelease(t.platform, {
    product: 'q50',
    version: '1.0.0',
    files: { 'fw.bin': buildEspImage({ version: '1.0.0' }) },
    manifest: { release: true },
  });
  await t.api.post('/admin/v1/products/q50/deployments', { build: fw.build_number, percentage: 100 });

  const replies = await Promise.all(Array.from({ length: 50 }, () => check('q50', 'same-device')));
  expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
  expect(replies.filter((r) => r.body.status !== 'update_available').map((r) => r.body.status)).toEqual([]);
  expect(await store.registeredCount('q50')).toBe(1);
  expect((await t.api.get('/admin/v1/products/q50/devices/same-device')).status).toBe(200);

  // The other 9 slots are still free: 9 more devices register, the 11th device is over the limit.
  for (let i = 1; i <= 9; i++) expect((await check('q50', `other-${i}`)).body.status).toBe('update_available');
  expect((await check('q50', 'one-too-many')).body.status).toBe('over_limit');
  expect(await store.registeredCount('q50')).toBe(10);
});

it('a quota of N with N+k distinct concurrent new devices registers exactly N', async () => {
  await createProduct(t.api, 'qn', { auto_register: true, device_quota: 3 });
  const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => check('qn', `dev-${i}`)));
  const statuses = replies.map((r) => r.body.status);
  expect(statuses.filter((s) => s === 'over_limit')).toHaveLength(5);
  expect(statuses.filter((s) => s === 'no_update')).toHaveLength(3);
  expect((await t.api.get('/admin/v1/products/qn/devices')).body.items).toHaveLength(3);
  expect(await store.registeredCount('qn')).toBe(3);
});

describe('a registration that fails after the claim gives its slot back', () => {
  const product = { productId: 'qfault', chip: 'esp32', securityMode: 'open', autoRegister: true, deviceQuota: 1, pollIntervalS: 60 } as unknown as Product;
  const config = { product: async () => product, allDeployments: async () => [], invalidate: () => undefined } as unknown as ProductConfigCache;
  const deployments = {} as DeploymentStore;
  const signer = {} as UrlSigner;

  it('register throws → the slot is released; the next check registers the device', async () => {
    class FaultyStore extends DeviceStore {
      fail = true;
      override async register(d: Parameters<DeviceStore['register']>[0]) {
        if (this.fail) throw new Error('injected: DynamoDB write failed after the claim');
        return super.register(d);
      }
    }
    const faulty = new FaultyStore((store as unknown as { doc: DynamoDBDocumentClient }).doc, t.platform.tableNames.DEVICES_TABLE);
    const checks = new CheckService({ config, deployments, devices: faulty, signer, lastSeenWriteIntervalMs: 60_000 });
    const input = { deviceId: 'fault-1', version: '1.0.0', hw: {} };

    await expect(checks.check('qfault', input)).rejects.toThrow('injected');
    expect(await store.registeredCount('qfault')).toBe(0);
    expect(await store.get('qfault', 'fault-1')).toBeUndefined();

    faulty.fail = false;
    expect((await checks.check('qfault', input)).decision.status).toBe('no_update');
    expect(await store.registeredCount('qfault')).toBe(1);
    // Quota 1 is now really used: another device is refused.
    expect((await checks.check('qfault', { ...input, deviceId: 'fault-2' })).decision.status).toBe('over_limit');
  });

  it('a device registered meanwhile without the slot (lost conditional put) → the slot is released', async () => {
    const p2 = { ...product, productId: 'qraced' } as Product;
    const cfg = { ...config, product: async () => p2 } as unknown as ProductConfigCache;
    class RacedStore extends DeviceStore {
      override async register(d: Parameters<DeviceStore['register']>[0]) {
        await super.register(d); // someone else (an operator token issue) registered it first
        return super.register(d);
      }
    }
    const raced = new RacedStore((store as unknown as { doc: DynamoDBDocumentClient }).doc, t.platform.tableNames.DEVICES_TABLE);
    const checks = new CheckService({ config: cfg, deployments, devices: raced, signer, lastSeenWriteIntervalMs: 60_000 });
    await checks.check('qraced', { deviceId: 'raced-1', version: '1.0.0', hw: {} });
    expect(await store.registeredCount('qraced')).toBe(0);
  });
});
