import { planCheck, type PlanCheckArgs } from '../../lambdas/core/check';
import type { Device, Product } from '../../lambdas/core/model';
import { deployment } from '../fixtures/deployment';

const NOW = new Date('2026-11-23T12:00:00Z');
const product: Product = {
  productId: 'ctrl',
  name: 'Controller',
  chip: 'esp32',
  autoRegister: true,
  securityMode: 'open',
  pollIntervalS: 900,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};
const device = (over: Partial<Device> = {}): Device => ({
  productId: 'ctrl',
  deviceId: 'AA:BB:CC:DD:EE:FF',
  currentVersion: '1.1.0',
  currentBuild: 1,
  channel: 'stable',
  active: true,
  firstSeen: '2026-11-01T00:00:00Z',
  lastSeen: '2026-11-23T11:59:00Z',
  failedBuilds: [],
  ...over,
});
const args = (over: Partial<PlanCheckArgs> = {}): PlanCheckArgs => ({
  product,
  device: device(),
  input: { deviceId: 'AA:BB:CC:DD:EE:FF', version: '1.1.0', build: 1, hw: {} },
  deployments: [],
  now: NOW,
  lastSeenWriteIntervalMs: 3600_000,
  ...over,
});

describe('planCheck', () => {
  it('answers unknown_product and writes nothing when the product does not exist', () => {
    expect(planCheck(args({ product: undefined }))).toEqual({ decision: { status: 'unknown_product' }, write: { kind: 'none' } });
  });

  it('answers unknown_device for a new device when the product does not auto-register', () => {
    const plan = planCheck(args({ product: { ...product, autoRegister: false }, device: undefined }));
    expect(plan.decision.status).toBe('unknown_device');
    expect(plan.write.kind).toBe('none');
  });

  it('registers an unknown device when the product auto-registers', () => {
    const plan = planCheck(args({ device: undefined, input: { deviceId: 'D1', version: '1.0.0', hw: { board: 'devkit', chip: 'esp32' } } }));
    expect(plan.write.kind).toBe('register');
    if (plan.write.kind === 'register') {
      expect(plan.write.device).toMatchObject({ deviceId: 'D1', currentVersion: '1.0.0', board: 'devkit', chip: 'esp32', active: true, channel: 'stable' });
    }
  });

  it('answers inactive for a deactivated device, with no write', () => {
    const plan = planCheck(args({ device: device({ active: false }), deployments: [deployment(2)] }));
    expect(plan).toEqual({ decision: { status: 'inactive' }, write: { kind: 'none' } });
  });

  it('writes nothing in the steady state (known device, nothing new, last seen fresh)', () => {
    const plan = planCheck(args({ deployments: [deployment(1)] }));
    expect(plan.decision).toEqual({ status: 'no_update', reason: 'up_to_date' });
    expect(plan.write).toEqual({ kind: 'none' });
  });

  it('rewrites lastSeen only once it is stale', () => {
    const plan = planCheck(args({ device: device({ lastSeen: '2026-11-23T10:00:00Z' }) }));
    expect(plan.write).toEqual({ kind: 'update', patch: { lastSeen: NOW.toISOString() } });
  });

  it('records what changed (new version reported) without waiting for staleness', () => {
    const plan = planCheck(args({ input: { deviceId: 'AA:BB:CC:DD:EE:FF', version: '1.2.0', build: 2, hw: {} } }));
    expect(plan.write).toEqual({ kind: 'update', patch: { currentVersion: '1.2.0', currentBuild: 2, lastSeen: NOW.toISOString() } });
  });

  it('drops a stale stored build when the device reports only a different version', () => {
    const plan = planCheck(args({ input: { deviceId: 'AA:BB:CC:DD:EE:FF', version: '9.9.9', hw: {} } }));
    expect(plan.write.kind).toBe('update');
    if (plan.write.kind === 'update') {
      expect(plan.write.patch).toHaveProperty('currentBuild', undefined);
      expect(plan.write.patch).toHaveProperty('currentVersion', '9.9.9');
    }
  });

  it('offers a newer build and records the first offer on the device', () => {
    const plan = planCheck(args({ deployments: [deployment(2)] }));
    expect(plan.decision).toMatchObject({ status: 'update_available', firstOffer: true });
    expect(plan.write.kind).toBe('update');
    // The offer remembers what was offered and what the device ran then (inference compares against both).
    if (plan.write.kind === 'update') {
      expect(plan.write.patch.lastOffer).toEqual({
        build: 2,
        deploymentId: 'dep_2',
        at: NOW.toISOString(),
        version: '1.2.0',
        fromVersion: '1.1.0',
        fromBuild: 1,
      });
    }
  });

  it('counts a repeated offer of the same deployment only once', () => {
    const plan = planCheck(
      args({ device: device({ lastOffer: { build: 2, deploymentId: 'dep_2', at: '2026-11-23T11:00:00Z' } }), deployments: [deployment(2)] }),
    );
    expect(plan.decision).toMatchObject({ status: 'update_available', firstOffer: false });
    expect(plan.write).toEqual({ kind: 'none' });
  });

  it('never offers a build the device failed before', () => {
    const plan = planCheck(args({ device: device({ failedBuilds: [2] }), deployments: [deployment(2)] }));
    expect(plan.decision).toEqual({ status: 'no_update', reason: 'failed_before' });
  });

  it('uses the channel the device reports when the product lets devices choose', () => {
    const beta = deployment(3, { channel: 'beta' });
    expect(planCheck(args({ deployments: [beta] })).decision.status).toBe('no_update');
    const plan = planCheck(
      args({
        product: { ...product, deviceSelectsChannel: true },
        deployments: [beta],
        input: { deviceId: 'AA:BB:CC:DD:EE:FF', build: 1, hw: {}, channel: 'beta' },
      }),
    );
    expect(plan.decision.status).toBe('update_available');
  });
});

describe('channel precedence', () => {
  const beta = deployment(3, { channel: 'beta' });
  const asks = (channel: string) => ({ deviceId: 'AA:BB:CC:DD:EE:FF', build: 1, hw: {}, channel });

  it('expect the operator-set channel to win over the one a known device sends', () => {
    const plan = planCheck(args({ device: device({ channel: 'stable' }), deployments: [beta], input: asks('beta') }));
    expect(plan.decision.status).toBe('no_update');
    expect(plan.write.kind === 'update' ? plan.write.patch.channel : undefined).toBeUndefined();
  });

  it('expect a new device to start in the channel it sends', () => {
    const plan = planCheck(args({ device: undefined, deployments: [beta], input: asks('beta') }));
    expect(plan.decision.status).toBe('update_available');
    expect(plan.write.kind === 'register' && plan.write.device.channel).toBe('beta');
  });
});

describe('inferred outcomes', () => {
  const offered = (over: Partial<NonNullable<Device['lastOffer']>> = {}) =>
    device({ lastOffer: { build: 2, deploymentId: 'dep_2', at: '2026-11-23T10:00:00.000Z', version: '1.2.0', fromVersion: '1.1.0', fromBuild: 1, ...over } });
  const on = (version: string) => ({ deviceId: 'AA:BB:CC:DD:EE:FF', version, hw: {} });

  it('expect success when the device checks in on the offered version', () => {
    const plan = planCheck(args({ device: offered(), input: on('1.2.0'), deployments: [deployment(2)] }));
    expect(plan.inferred).toEqual({ build: 2, deploymentId: 'dep_2', outcome: 'succeeded', reason: 'checked_in_on_offered_build', version: '1.2.0' });
    expect(plan.decision.status).toBe('no_update');
  });

  it('expect success when a version is spelt differently but means the offered one', () => {
    expect(planCheck(args({ device: offered(), input: on('v1.2.0') })).inferred?.outcome).toBe('succeeded');
  });

  it('expect nothing inferred while the device is still on its old version and has not downloaded', () => {
    expect(planCheck(args({ device: offered(), input: on('1.1.0'), deployments: [deployment(2)] })).inferred).toBeUndefined();
  });

  it('expect a failure when it downloaded the whole image and came back on its old version, and no re-offer', () => {
    const plan = planCheck(args({ device: offered({ downloadedAt: '2026-11-23T11:00:00.000Z' }), input: on('1.1.0'), deployments: [deployment(2)] }));
    expect(plan.inferred).toMatchObject({ outcome: 'failed', reason: 'returned_on_old_version', build: 2 });
    expect(plan.decision).toMatchObject({ status: 'no_update', reason: 'failed_before' });
  });

  it('expect nothing inferred from a settled offer', () => {
    const plan = planCheck(args({ device: offered({ outcome: 'timed_out', downloadedAt: '2026-11-23T11:00:00.000Z' }), input: on('1.2.0') }));
    expect(plan.inferred).toBeUndefined();
  });

  it('expect a versionless protocol to succeed only on a call after a completed download', () => {
    const versionless = (o: Parameters<typeof offered>[0]) =>
      planCheck(args({ device: offered(o), input: { deviceId: 'AA:BB:CC:DD:EE:FF', hw: {} }, versionless: true }));
    expect(versionless({}).inferred).toBeUndefined();
    expect(versionless({ downloadedAt: '2026-11-23T11:00:00.000Z' }).inferred).toMatchObject({ outcome: 'succeeded', reason: 'called_again_after_download' });
  });

  it('expect no inference from a download recorded after this check-in', () => {
    expect(planCheck(args({ device: offered({ downloadedAt: '2026-11-23T12:30:00.000Z' }), input: on('1.1.0') })).inferred).toBeUndefined();
  });
});
