/**
 * The in-memory stores (test/support/memory-stores.ts) keep the DynamoDB stores' semantics: each
 * scenario runs once against them and once against the real stores on dynalite, and both must
 * produce the same transcript (cursors compared by presence; they are opaque). A few explicit
 * expectations pin what the transcript must say, so the two cannot agree on something wrong.
 */
import { ZERO_COUNTS, type Assignment, type Deployment, type Device, type Firmware } from '../../lambdas/core/model';
import { createDocumentClient } from '../../lambdas/shared/aws';
import { CatalogStore } from '../../lambdas/shared/store/catalog-store';
import { DeploymentStore } from '../../lambdas/shared/store/deployment-store';
import { DeviceStore, HISTORY_LIMIT } from '../../lambdas/shared/store/device-store';
import type { CatalogStorePort, DeploymentStorePort, DeviceStorePort } from '../../lambdas/shared/store/ports';
import { LOCAL_TABLE_NAMES, startPeers, type Peers } from '../../lib/local/peers';
import { memoryStores } from '../support/memory-stores';

jest.setTimeout(60_000);

interface Stores {
  readonly catalog: CatalogStorePort;
  readonly deployments: DeploymentStorePort;
  readonly devices: DeviceStorePort;
}

let peers: Peers;
let dynamo: Stores;

beforeAll(async () => {
  peers = await startPeers({ s3Port: 0, s3Credentials: { accessKeyId: 'contract', secretAccessKey: 'contract-secret' } });
  const doc = createDocumentClient(peers.dynamodbEndpoint);
  dynamo = {
    catalog: new CatalogStore(doc, LOCAL_TABLE_NAMES.FIRMWARE_TABLE),
    deployments: new DeploymentStore(doc, LOCAL_TABLE_NAMES.DEPLOYMENTS_TABLE),
    devices: new DeviceStore(doc, LOCAL_TABLE_NAMES.DEVICES_TABLE),
  };
});
afterAll(async () => {
  await peers?.stop();
});

/** Cursors are opaque: only whether there is one is part of the contract. */
const normalize = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null, (k, x) => (k === 'cursor' ? x !== undefined && x !== null : x)));

let run = 0;
/** Runs `scenario` on fresh in-memory stores and on dynalite (fresh ids), returns both transcripts. */
async function both<T>(scenario: (s: Stores, id: string) => Promise<T>): Promise<{ memory: unknown; dynamo: unknown }> {
  const id = `c${++run}`;
  const memory = normalize(await scenario(memoryStores(), id));
  return { memory, dynamo: normalize(await scenario(dynamo, id)) };
}

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T01:00:00.000Z';

const firmware = (productId: string, build: number, state: Firmware['state'] = 'DRAFT'): Firmware => ({
  productId,
  build,
  version: `1.0.${build}`,
  state,
  firmwareType: 'Board',
  files: [{ role: 'app', name: 'app.bin', key: `${productId}/${build}/app.bin`, size: 10, sha256: 'a'.repeat(64), crc32: '00000000' }],
  app: { chipId: 0, version: `1.0.${build}`, projectName: 'p', idfVersion: 'v5' },
  source: 'ingest/x.json',
  contentDigest: `d${build}`,
  createdAt: T0,
});

const deployment = (productId: string, deploymentId: string, build = 1): Deployment => ({
  productId,
  deploymentId,
  build,
  channel: 'stable',
  percentage: 10,
  seed: 's',
  state: 'active',
  firmware: { build, version: `1.0.${build}`, firmwareType: 'Board', files: [] },
  counts: { ...ZERO_COUNTS },
  createdAt: T0,
  updatedAt: T0,
});

const device = (productId: string, deviceId: string): Device => ({
  productId,
  deviceId,
  channel: 'stable',
  active: true,
  firstSeen: T0,
  lastSeen: T0,
  failedBuilds: [],
});

const assignment = (id: string, build: number): Assignment => ({
  assignmentId: id,
  build,
  state: 'pending',
  firmware: { build, version: `1.0.${build}`, firmwareType: 'Board', files: [] },
  assignedAt: T0,
  updatedAt: T0,
});

describe('catalog store contract', () => {
  it('expect the same products when put twice, keys set, a field dropped and a build allocated', async () => {
    const r = await both(async ({ catalog }, id) => {
      const first = await catalog.putProduct(
        { productId: id, name: 'n', chip: 'esp32', autoRegister: true, securityMode: 'open', pollIntervalS: 900, deviceQuota: 5 },
        T0,
      );
      const build = await catalog.allocateBuildNumber(id);
      await catalog.setProductKeys(id, 'h1', undefined);
      const second = await catalog.putProduct(
        { productId: id, name: 'm', chip: 'esp32', autoRegister: false, securityMode: 'open', pollIntervalS: 600, deviceQuota: undefined },
        T1,
      );
      const missingKeys = await catalog.setProductKeys(`${id}-missing`, 'h', undefined).then(
        () => 'ok',
        (e: Error) => e.name,
      );
      return { first, build, second, read: await catalog.getProduct(id), missingKeys };
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toMatchObject({
      first: { created: true },
      build: 1,
      second: { created: false, product: { createdAt: T0, updatedAt: T1, productKeyHash: 'h1' } },
      missingKeys: 'ConditionalCheckFailedException',
    });
    expect((r.memory as { read: object }).read).not.toHaveProperty('deviceQuota');
    expect((r.memory as { read: object }).read).not.toHaveProperty('buildCounter');
  });

  it('expect the same firmware pages (newest first, Limit before the filter) and transitions', async () => {
    const r = await both(async ({ catalog }, id) => {
      for (const b of [1, 2, 3]) await catalog.putFirmware(firmware(id, b));
      const duplicate = await catalog.putFirmware(firmware(id, 2));
      const released = await catalog.transitionFirmware(id, 2, ['DRAFT'], 'RELEASED', T1);
      const notDraft = await catalog.transitionFirmware(id, 2, ['DRAFT'], 'RELEASED', T1);
      const missing = await catalog.transitionFirmware(id, 9, ['DRAFT'], 'REVOKED', T1);
      const p1 = await catalog.listFirmware(id, { limit: 2 });
      const p2 = await catalog.listFirmware(id, { limit: 2, cursor: p1.cursor });
      const exact = await catalog.listFirmware(id, { limit: 3 });
      const afterExact = await catalog.listFirmware(id, { limit: 3, cursor: exact.cursor });
      const filtered = await catalog.listFirmware(id, { limit: 1, state: 'RELEASED' });
      const inStates = await catalog.listFirmwareInStates(id, ['DRAFT']);
      return {
        duplicate,
        released,
        notDraft: notDraft ?? null,
        missing: missing ?? null,
        pages: [p1, p2, exact, afterExact, filtered].map((p) => ({ builds: p.items.map((f) => f.build), cursor: p.cursor })),
        inStates: inStates.map((f) => f.build),
      };
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toMatchObject({
      duplicate: false,
      released: { state: 'RELEASED', releasedAt: T1 },
      notDraft: null,
      missing: null,
      pages: [
        { builds: [3, 2], cursor: true },
        { builds: [1], cursor: false },
        { builds: [3, 2, 1], cursor: true },
        { builds: [], cursor: false },
        { builds: [], cursor: true },
      ],
      inStates: [1, 3],
    });
  });

  it('expect the same alias claims: first product wins, release only by the holder', async () => {
    const r = await both(async ({ catalog }, id) => {
      const a = `iotaap#${id}`;
      const claims = [await catalog.claimAlias(a, id), await catalog.claimAlias(a, id), await catalog.claimAlias(a, `${id}-other`)];
      await catalog.releaseAlias(a, `${id}-other`);
      const held = await catalog.resolveAlias(a);
      await catalog.claimAlias(`iotaap#${id}-z`, `${id}-z`);
      const listed = (await catalog.listAliases('iotaap#')).filter((x) => x.productId.startsWith(id));
      await catalog.releaseAlias(a, id);
      return { claims, held, listed, after: (await catalog.resolveAlias(a)) ?? null };
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toMatchObject({ claims: [true, true, false], after: null });
  });
});

describe('deployment store contract', () => {
  it('expect the same conditional transitions, promotions, pauses and resumes', async () => {
    const r = await both(async ({ deployments }, id) => {
      await deployments.create(deployment(id, 'dep_a'));
      await deployments.create(deployment(id, 'dep_b', 2));
      const paused = await deployments.transition(id, 'dep_a', ['active'], 'paused', 'manual', T1);
      const again = await deployments.transition(id, 'dep_a', ['active'], 'paused', 'manual', T1);
      const missing = await deployments.transition(id, 'dep_x', ['active'], 'paused', 'manual', T1);
      const lower = await deployments.raisePercentage(id, 'dep_a', 5, T1);
      const raised = await deployments.raisePercentage(id, 'dep_a', 50, T1);
      await deployments.increment(id, 'dep_a', ['failed', 'inferredFailed']);
      const resumed = await deployments.resume(id, 'dep_a', T1);
      const notPaused = await deployments.resume(id, 'dep_a', T1);
      const autoPaused = [await deployments.autoPause(id, 'dep_a', 'max_failures', T1), await deployments.autoPause(id, 'dep_a', 'max_failures', T1)];
      const done = await deployments.transition(id, 'dep_b', ['active', 'paused'], 'completed', undefined, T1);
      const raiseDone = await deployments.raisePercentage(id, 'dep_b', 90, T1);
      const offer = [await deployments.recordOffer(id, 'dep_a', 1), await deployments.recordOffer(id, 'dep_b', 1)];
      return {
        paused,
        again: again ?? null,
        missing: missing ?? null,
        lower: lower ?? null,
        raised,
        resumed,
        notPaused: notPaused ?? null,
        autoPaused,
        done,
        raiseDone: raiseDone ?? null,
        offer,
        list: await deployments.list(id),
      };
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toMatchObject({
      paused: { state: 'paused', stateReason: 'manual' },
      again: null,
      missing: null,
      lower: null,
      raised: { percentage: 50 },
      resumed: { state: 'active', policyBaseline: { failed: 1, succeeded: 0 } },
      notPaused: null,
      autoPaused: [true, false],
      raiseDone: null,
      offer: [false, false],
    });
    expect((r.memory as { done: object }).done).not.toHaveProperty('stateReason');
  });

  it('expect the same in-flight index and watch list', async () => {
    const r = await both(async ({ deployments }, id) => {
      const dep = `dep_${id}`;
      await deployments.addInFlight({ productId: id, deploymentId: dep, deviceId: 'd2', offeredAt: T1 });
      await deployments.addInFlight({ productId: id, deploymentId: dep, deviceId: 'd1', offeredAt: T0 });
      const overdue = await deployments.overdueInFlight(dep, '2026-01-01T00:30:00.000Z');
      const removed = [await deployments.removeInFlight(dep, T0, 'd1'), await deployments.removeInFlight(dep, T0, 'd1')];
      await deployments.watch(id, dep);
      const watched = (await deployments.watched()).filter((w) => w.productId === id);
      await deployments.unwatch(id, dep);
      return { overdue, removed, watched, after: (await deployments.watched()).filter((w) => w.productId === id) };
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toMatchObject({ overdue: [{ deviceId: 'd1' }], removed: [true, false], after: [] });
  });
});

describe('device store contract', () => {
  it('expect the same assignment outcomes: unknown_device, assigned, unchanged, conflict, replace, cancel', async () => {
    const r = await both(async ({ devices }, id) => {
      const out: unknown[] = [await devices.assign(id, 'd1', assignment('a1', 1), false)];
      await devices.register(device(id, 'd1'));
      out.push(await devices.assign(id, 'd1', assignment('a1', 1), false));
      out.push(await devices.assign(id, 'd1', assignment('a2', 1), false));
      out.push(await devices.assign(id, 'd1', assignment('a3', 2), false));
      out.push((await devices.get(id, 'd1'))?.assignment?.assignmentId);
      out.push(await devices.assign(id, 'd1', assignment('a4', 2), true));
      out.push(await devices.transitionAssignment(id, 'd1', 'a1', ['pending'], 'delivered', T1));
      out.push(await devices.transitionAssignment(id, 'd1', 'a4', ['pending'], 'applied', T1));
      out.push(await devices.assign(id, 'd1', assignment('a5', 3), false));
      out.push(await devices.cancelAssignment(id, 'd1'), await devices.cancelAssignment(id, 'd1'), await devices.cancelAssignment(id, 'nobody'));
      out.push((await devices.get(id, 'd1'))?.assignment ?? null);
      return out;
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toEqual(['unknown_device', 'assigned', 'unchanged', 'conflict', 'a1', 'assigned', false, true, 'assigned', true, false, false, null]);
  });

  it('expect the same reports, failed builds, clears and history trim', async () => {
    const r = await both(async ({ devices }, id) => {
      await devices.register(device(id, 'd1'));
      const failed = await devices.recordReport(id, 'd1', { build: 3, status: 'failed', at: T1, message: 'boom' });
      const dup = await devices.recordReport(id, 'd1', { build: 3, status: 'failed', at: T1 });
      await devices.recordReport(id, 'd1', { build: 4, status: 'rolled_back', at: T1 });
      const ok = await devices.recordReport(id, 'd1', { build: 5, status: 'success', at: T1, version: '1.0.5' });
      const unknown = await devices.recordReport(id, 'nobody', { build: 5, status: 'success', at: T1 });
      const cleared = await devices.clearFailedBuilds(id, 'd1', [3], T1, 'by test');
      const none = await devices.clearFailedBuilds(id, 'd1', [], T1, 'by test');
      const clearedMissing = await devices.clearFailedBuilds(id, 'nobody', [3], T1, 'by test');
      let last: unknown;
      for (let i = 0; i < 2 * HISTORY_LIMIT; i++) {
        last = await devices.recordReport(id, 'd1', { build: 6, status: i % 2 ? 'installing' : 'downloading', at: T1 });
      }
      const progressDup = await devices.recordReport(id, 'd1', { build: 6, status: 'installing', at: T1 });
      const trimmed = await devices.get(id, 'd1', true);
      const allCleared = await devices.clearFailedBuilds(id, 'd1', trimmed!.failedBuilds, T1, 'all');
      return {
        failed,
        dup: dup.kind,
        ok: ok.kind === 'unknown_device' ? null : ok.device,
        unknown,
        cleared,
        none,
        clearedMissing: clearedMissing ?? null,
        lastLength: (last as { device: Device }).device.history?.length,
        progressDup: progressDup.kind,
        trimmedLength: trimmed?.history?.length,
        allCleared: allCleared?.failedBuilds,
      };
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toMatchObject({
      failed: { kind: 'recorded', device: { failedBuilds: [3] } },
      dup: 'duplicate',
      ok: { failedBuilds: [3, 4], currentBuild: 5, currentVersion: '1.0.5' },
      unknown: { kind: 'unknown_device' },
      cleared: { failedBuilds: [4] },
      clearedMissing: null,
      progressDup: 'duplicate',
      // 4 entries, then 2×limit more: cut back to the limit when it reached 2×limit, 4 added since.
      trimmedLength: HISTORY_LIMIT + 4,
      allCleared: [],
    });
  });

  it('expect the same offers settled and stepped once', async () => {
    const r = await both(async ({ devices }, id) => {
      await devices.register(device(id, 'd1'));
      await devices.update(id, 'd1', { lastOffer: { build: 2, deploymentId: 'dep_a', at: T0, version: '1.0.2' } });
      const step = [await devices.markOfferStep(id, 'd1', 2, 'downloadedAt', T1), await devices.markOfferStep(id, 'd1', 2, 'downloadedAt', T1)];
      const wrongDeployment = await devices.settleOffer(id, 'd1', { build: 2, deploymentId: 'dep_b' }, 'failed', T1);
      const settled = await devices.settleOffer(id, 'd1', { build: 2, deploymentId: 'dep_a' }, 'failed', T1, { reason: 'returned_on_old_version' });
      const twice = await devices.settleOffer(id, 'd1', { build: 2 }, 'succeeded', T1);
      return { step: step.map((s) => s ?? null), wrongDeployment: wrongDeployment ?? null, settled, twice: twice ?? null, device: await devices.get(id, 'd1') };
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toMatchObject({
      step: [{ downloadedAt: T1 }, null],
      wrongDeployment: null,
      settled: { outcome: 'failed', inferred: true },
      twice: null,
      device: { failedBuilds: [2] },
    });
  });

  it('expect the same device pages (by id, prefix, cursor at the Limit), patches and tokens', async () => {
    const r = await both(async ({ devices }, id) => {
      for (const d of ['b2', 'a1', 'b1', 'b3']) await devices.register(device(id, d));
      const again = await devices.register(device(id, 'a1'));
      const p1 = await devices.listByProduct(id, { limit: 2, prefix: 'b' });
      const p2 = await devices.listByProduct(id, { limit: 2, prefix: 'b', cursor: p1.cursor });
      const all = await devices.listByProduct(id);
      const patched = await devices.update(id, 'a1', { channel: 'beta', groups: ['g'], tags: { k: 'v' } });
      const unpatched = await devices.update(id, 'a1', { groups: undefined });
      const missing = await devices.update(id, 'zz', { channel: 'beta' });
      await devices.setToken(device(id, 't1'), 'hash1');
      await devices.setToken(device(id, 't1'), 'hash2');
      return {
        again,
        pages: [p1, p2, all].map((p) => ({ ids: p.items.map((d) => d.deviceId), cursor: p.cursor })),
        patched,
        unpatched,
        missing: missing ?? null,
        token: (await devices.get(id, 't1'))?.tokenHash,
      };
    });
    expect(r.memory).toEqual(r.dynamo);
    expect(r.memory).toMatchObject({
      again: false,
      pages: [
        { ids: ['b1', 'b2'], cursor: true },
        { ids: ['b3'], cursor: false },
        { ids: ['a1', 'b1', 'b2', 'b3'], cursor: false },
      ],
      patched: { channel: 'beta', groups: ['g'] },
      missing: null,
      token: 'hash2',
    });
    expect((r.memory as { unpatched: object }).unpatched).not.toHaveProperty('groups');
  });
});
