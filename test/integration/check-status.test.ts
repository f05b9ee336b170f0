/**
 * The check and status functions over real HTTP against dynalite + s3rver: every business
 * outcome, auto-registration, the steady-state cost (one GetItem, no write, counted at the SDK),
 * duplicate and failed reports, and malformed input that writes nothing.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../lambdas/shared/aws';
import { devicePk } from '../../lambdas/shared/store/device-store';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;
const devicesTable = () => t.platform.tableNames.DEVICES_TABLE;
const getDevice = async (product: string, id: string) =>
  (await documentClient().send(new GetCommand({ TableName: devicesTable(), Key: { pk: devicePk(product, id) }, ConsistentRead: true }))).Item;

/** Counts every DynamoDB API call the handlers make (they share this container-wide client; names are the wire operations). */
const sent: string[] = [];
beforeAll(async () => {
  t = await startTestPlatform();
  documentClient().middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName as string);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  await createProduct(t.api, 'chk', { chip: 'esp32c3', auto_register: true });
  await createProduct(t.api, 'closed', { chip: 'esp32c3', auto_register: false });
  for (const [v, fill] of [
    ['1.0.0', 1],
    ['1.1.0', 2],
    ['1.2.0', 3],
  ] as const) {
    const r = await publishRelease(t.platform, {
      product: 'chk',
      version: v,
      files: { 'fw.bin': buildEspImage({ chip: 'esp32c3', version: v, fill }) },
      manifest: { release: true },
    });
    expect(r.status).toBe('accepted');
  }
});
afterAll(async () => {
  await t?.platform.stop();
});

const check = (body: Record<string, unknown>) => t.api.post('/api/v1/ota/check/', body);
const report = (body: Record<string, unknown>) => t.api.post('/api/v1/ota/status/', body);
const buildOf = async (version: string) =>
  (await t.api.get('/admin/v1/products/chk/firmware')).body.items.find((f: any) => f.version === version).build_number as number;

describe('check outcomes (all HTTP 200)', () => {
  it('unknown_product for a product nobody created', async () => {
    const r = await check({ product: 'nope', device_id: 'dev-1' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'unknown_product', update_available: false, update: false });
    expect(r.body.next_check_s).toBeGreaterThan(0);
  });

  it('unknown_device when the product does not auto-register, and nothing is written', async () => {
    const r = await check({ product: 'closed', device_id: 'AA:BB:CC:00:00:01' });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('unknown_device');
    expect(await getDevice('closed', 'AA:BB:CC:00:00:01')).toBeUndefined();
  });

  it('auto-registers an unknown device with a normalised MAC and its hardware', async () => {
    const r = await check({ product: 'chk', device_id: 'aa-bb-cc-00-00-02', version: '0.9.0', hw: { board: 'c3-mini', chip: 'esp32c3', revision: 3 } });
    expect(r.body.status).toBe('no_update');
    const d = await getDevice('chk', 'AA:BB:CC:00:00:02');
    expect(d).toMatchObject({ deviceId: 'AA:BB:CC:00:00:02', currentVersion: '0.9.0', board: 'c3-mini', chip: 'esp32c3', hwRevision: '3', active: true });
    expect(d!.firstSeen).toBe(d!.lastSeen);
  });

  it('inactive for a deactivated device, which is offered nothing', async () => {
    await check({ product: 'chk', device_id: 'dev-inactive', version: '0.9.0' });
    await documentClient().send(
      new UpdateCommand({
        TableName: devicesTable(),
        Key: { pk: devicePk('chk', 'dev-inactive') },
        UpdateExpression: 'SET active = :f',
        ExpressionAttributeValues: { ':f': false },
      }),
    );
    const dep = await t.api.post('/admin/v1/products/chk/deployments', { build: await buildOf('1.0.0'), percentage: 100, channel: 'inactive-test' });
    const r = await check({ product: 'chk', device_id: 'dev-inactive', version: '0.9.0', channel: 'inactive-test' });
    expect(r.body).toMatchObject({ status: 'inactive', update_available: false });
    await t.api.post(`/admin/v1/products/chk/deployments/${dep.body.deployment_id}/pause`);
  });
});

describe('hot path', () => {
  it('a steady-state check (known device, nothing new) costs exactly one GetItem and no write', async () => {
    const device = { product: 'chk', device_id: 'AA:BB:CC:00:00:10', version: '1.2.0', hw: { board: 'c3-mini', chip: 'esp32c3' } };
    await check(device); // registers
    await check(device); // warms the container's product/deployment cache
    sent.length = 0;
    const r = await check(device);
    expect(r.body.status).toBe('no_update');
    expect(sent).toEqual(['GetItemCommand']);
  });

  it('a check that changes what we know writes once; the next one writes nothing', async () => {
    const device = { product: 'chk', device_id: 'AA:BB:CC:00:00:11', version: '1.2.0' };
    await check(device);
    await check(device);
    sent.length = 0;
    await check({ ...device, hw: { board: 'new-board' } });
    expect(sent).toEqual(['GetItemCommand', 'UpdateItemCommand']);
    sent.length = 0;
    await check({ ...device, hw: { board: 'new-board' } });
    expect(sent).toEqual(['GetItemCommand']);
  });
});

describe('offers and status reports', () => {
  it('offers only newer builds, counts reports once, and never re-offers a failed build', async () => {
    const b110 = await buildOf('1.1.0');
    const b120 = await buildOf('1.2.0');
    const dep = (await t.api.post('/admin/v1/products/chk/deployments', { build: b120, percentage: 100, channel: 'beta' })).body;
    const dev = { product: 'chk', device_id: 'AA:BB:CC:00:00:20', version: '1.1.0', build: b110, channel: 'beta' };

    const offer = await check(dev);
    expect(offer.body).toMatchObject({ status: 'update_available', build_number: b120, version: '1.2.0', deployment_id: dep.deployment_id });
    expect(offer.body.crc32).toMatch(/^[0-9a-f]{8}$/);

    const downloading = { product: 'chk', device_id: dev.device_id, build_number: b120, status: 'downloading' };
    expect((await report(downloading)).body).toMatchObject({ ok: true, result: 'recorded' });
    expect((await report(downloading)).body).toMatchObject({ ok: true, result: 'duplicate' });
    const failed = { ...downloading, status: 'failed', message: 'sha256 mismatch after download' };
    expect((await report(failed)).body.result).toBe('recorded');
    expect((await report(failed)).body.result).toBe('duplicate');

    const counts = (await t.api.get(`/admin/v1/products/chk/deployments/${dep.deployment_id}`)).body.counts;
    expect(counts).toMatchObject({ offered: 1, failed: 1, succeeded: 0 });

    const again = await check(dev);
    expect(again.body).toMatchObject({ status: 'no_update', update_available: false });
    expect((await getDevice('chk', dev.device_id))!.failedBuilds).toEqual(new Set([b120]));
  });

  it('a device on the deployed build is not offered it; a success report moves its current build', async () => {
    const b120 = await buildOf('1.2.0');
    const dev = { product: 'chk', device_id: 'AA:BB:CC:00:00:21', version: '1.0.0', channel: 'beta' };
    expect((await check(dev)).body.build_number).toBe(b120);
    expect((await report({ product: 'chk', device_id: dev.device_id, build_number: b120, status: 'success' })).body.result).toBe('recorded');
    expect(await getDevice('chk', dev.device_id)).toMatchObject({ currentBuild: b120, currentVersion: '1.2.0' });
    expect((await check({ product: 'chk', device_id: dev.device_id, channel: 'beta' })).body.status).toBe('no_update');
  });

  it('never offers a REVOKED build', async () => {
    const b110 = await buildOf('1.1.0');
    await t.api.post('/admin/v1/products/chk/deployments', { build: b110, percentage: 100, channel: 'revoke-test' });
    const dev = { product: 'chk', device_id: 'dev-revoke', version: '1.0.0', channel: 'revoke-test' };
    expect((await check(dev)).body.build_number).toBe(b110);
    expect((await t.api.post(`/admin/v1/products/chk/firmware/${b110}/revoke`)).status).toBe(200);
    expect((await check({ ...dev, device_id: 'dev-revoke-2' })).body.status).toBe('no_update');
    expect((await check(dev)).body.status).toBe('no_update');
  });

  it('reports for unknown devices and builds answer 200 with a result, not an error', async () => {
    expect((await report({ product: 'chk', device_id: 'never-seen', build_number: 1, status: 'success' })).body).toMatchObject({
      ok: false,
      result: 'unknown_device',
    });
    expect((await report({ product: 'chk', device_id: 'AA:BB:CC:00:00:20', build_number: 999, status: 'success' })).body).toMatchObject({
      ok: false,
      result: 'unknown_build',
    });
    expect((await report({ product: 'nope', device_id: 'x', build_number: 1, status: 'success' })).body).toMatchObject({
      ok: false,
      result: 'unknown_product',
    });
  });
});

describe('malformed input: 400 with a JSON error code, nothing written', () => {
  const bad: [string, string | Record<string, unknown>][] = [
    ['invalid JSON', '{"product": "chk", '],
    ['a JSON array', '[1,2]'],
    ['a missing device_id', { product: 'chk' }],
    ['a device_id with spaces', { product: 'chk', device_id: 'a b' }],
    ['an oversized version', { product: 'chk', device_id: 'bad-1', version: 'v'.repeat(65) }],
    ['a negative build', { product: 'chk', device_id: 'bad-2', build: -1 }],
    ['a product id with a slash', { product: 'a/b', device_id: 'bad-3' }],
  ];
  it.each(bad)('check with %s', async (_why, body) => {
    sent.length = 0;
    const r = await check(body as Record<string, unknown>);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(sent).toEqual([]);
  });

  it('check with a body over 16 KB', async () => {
    sent.length = 0;
    const r = await check({ product: 'chk', device_id: 'bad-4', pad: 'x'.repeat(20_000) });
    expect([400, 413]).toContain(r.status);
    expect(r.body.error.code).toEqual(expect.any(String));
    expect(sent).toEqual([]);
  });

  it.each([
    ['an unknown status', { product: 'chk', device_id: 'AA:BB:CC:00:00:20', build_number: 1, status: 'exploded' }],
    ['a build number of zero', { product: 'chk', device_id: 'AA:BB:CC:00:00:20', build_number: 0, status: 'success' }],
    ['a build number as a string', { product: 'chk', device_id: 'AA:BB:CC:00:00:20', build_number: '3', status: 'success' }],
  ])('status with %s', async (_why, body) => {
    sent.length = 0;
    const r = await report(body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toEqual(expect.any(String));
    expect(sent).toEqual([]);
  });
});
