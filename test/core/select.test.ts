import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Deployment } from '../../lambdas/core/model';
import { isCompatible, isNewerBuild, selectOffer, type DeviceView } from '../../lambdas/core/select';
import { deployment } from '../fixtures/deployment';

const device = (over: Partial<DeviceView> = {}): DeviceView => ({
  deviceId: 'AA:BB:CC:DD:EE:FF',
  channel: 'stable',
  currentBuild: 1,
  currentVersion: '1.1.0',
  hw: {},
  failedBuilds: [],
  ...over,
});
const select = (deployments: Deployment[], d: DeviceView = device(), order?: 'latest' | 'next') =>
  selectOffer({ device: d, productChip: 'esp32', deployments, ...(order ? { order } : {}) });
const offeredBuild = (s: ReturnType<typeof selectOffer>) => (s.kind === 'offer' ? s.deployment.build : s.reason);

/** Cohort bucket computed independently of lambdas/core/cohort. */
const bucket = (seed: string, deviceId: string) => createHash('sha256').update(`${seed}:${deviceId}`).digest().readUInt32BE(0) % 10000;

describe('isCompatible', () => {
  it('accepts a device that does not report its chip', () => {
    expect(isCompatible({}, 'esp32s3')).toBe(true);
    expect(isCompatible({ board: 'devkit' }, 'esp32')).toBe(true);
  });

  it('compares chips ignoring case, dashes, underscores and spaces', () => {
    expect(isCompatible({ chip: 'ESP32-S3' }, 'esp32s3')).toBe(true);
    expect(isCompatible({ chip: 'esp32_c3' }, 'esp32c3')).toBe(true);
    expect(isCompatible({ chip: 'ESP32 C6' }, 'esp32c6')).toBe(true);
    expect(isCompatible({ chip: 'esp32' }, 'esp32')).toBe(true);
  });

  it('rejects a different chip', () => {
    expect(isCompatible({ chip: 'ESP32' }, 'esp32s3')).toBe(false);
    expect(isCompatible({ chip: 'ESP32-S3' }, 'esp32')).toBe(false);
    expect(isCompatible({ chip: 'esp32c3' }, 'esp32c2')).toBe(false);
    expect(isCompatible({ chip: '' }, 'esp32')).toBe(false);
  });
});

describe('isNewerBuild', () => {
  it('compares build numbers when the device reports one', () => {
    expect(isNewerBuild(deployment(5), { currentBuild: 4 })).toBe(true);
    expect(isNewerBuild(deployment(5), { currentBuild: 5 })).toBe(false);
    expect(isNewerBuild(deployment(5), { currentBuild: 6 })).toBe(false);
  });

  it('prefers the build number over the version when both are known', () => {
    const d = deployment(5, { firmware: { build: 5, version: '0.1.0', firmwareType: 'T', files: [] } });
    expect(isNewerBuild(d, { currentBuild: 4, currentVersion: '9.9.9' })).toBe(true);
    expect(isNewerBuild(deployment(5), { currentBuild: 5, currentVersion: '0.0.1' })).toBe(false);
  });

  it('falls back to version ordering without a build number', () => {
    const d = deployment(7, { firmware: { build: 7, version: '2026.03.010', firmwareType: 'T', files: [] } });
    expect(isNewerBuild(d, { currentVersion: '2026.03.002' })).toBe(true);
    expect(isNewerBuild(d, { currentVersion: '2026.03.010' })).toBe(false);
    expect(isNewerBuild(d, { currentVersion: '2026.10.001' })).toBe(false);
    expect(isNewerBuild(d, {})).toBe(true);
  });
});

describe('selectOffer', () => {
  it('answers no_deployment when there are none', () => {
    expect(select([])).toEqual({ kind: 'none', reason: 'no_deployment' });
  });

  it('offers only deployments in the device channel', () => {
    expect(select([deployment(2, { channel: 'beta' })])).toEqual({ kind: 'none', reason: 'no_deployment' });
    expect(offeredBuild(select([deployment(2, { channel: 'beta' })], device({ channel: 'beta' })))).toBe(2);
    expect(offeredBuild(select([deployment(3, { channel: 'beta' }), deployment(2)]))).toBe(2);
  });

  it('offers only active deployments (paused, completed and cancelled never)', () => {
    for (const state of ['paused', 'completed', 'cancelled'] as const) {
      expect(select([deployment(2, { state })])).toEqual({ kind: 'none', reason: 'no_deployment' });
    }
  });

  it('never offers a revoked build (revoking pauses its deployments), even if it is the newest', () => {
    const revoked = deployment(3, { state: 'paused', stateReason: 'firmware_revoked' });
    expect(offeredBuild(select([revoked, deployment(2)]))).toBe(2);
    expect(select([revoked])).toEqual({ kind: 'none', reason: 'no_deployment' });
  });

  it('answers incompatible for a device on another chip', () => {
    expect(select([deployment(2)], device({ hw: { chip: 'ESP32-S3' } }))).toEqual({ kind: 'none', reason: 'incompatible' });
    expect(offeredBuild(select([deployment(2)], device({ hw: { chip: 'ESP32' } })))).toBe(2);
  });

  it('offers only builds newer than the running one', () => {
    expect(select([deployment(1)])).toEqual({ kind: 'none', reason: 'up_to_date' });
    expect(select([deployment(1)], device({ currentBuild: 3 }))).toEqual({ kind: 'none', reason: 'up_to_date' });
    expect(offeredBuild(select([deployment(2)]))).toBe(2);
    // Without a build number, by version.
    const byVersion = device({ currentBuild: undefined, currentVersion: '1.2.0' });
    expect(select([deployment(2)], byVersion)).toEqual({ kind: 'none', reason: 'up_to_date' });
    expect(offeredBuild(select([deployment(3)], byVersion))).toBe(3);
  });

  it("never offers a build in the device's failedBuilds", () => {
    expect(select([deployment(2)], device({ failedBuilds: [2] }))).toEqual({ kind: 'none', reason: 'failed_before' });
    // Falls back to an older eligible build rather than the failed newest.
    expect(offeredBuild(select([deployment(2), deployment(3)], device({ failedBuilds: [3] })))).toBe(2);
    expect(select([deployment(2), deployment(3)], device({ failedBuilds: [3, 2] }))).toEqual({ kind: 'none', reason: 'failed_before' });
  });

  it('offers a partial rollout only to devices in its cohort', () => {
    const d = device();
    const b = bucket('canary', d.deviceId);
    const atBoundary = deployment(2, { seed: 'canary', percentage: b / 100 });
    const justAbove = deployment(2, { seed: 'canary', percentage: (b + 1) / 100 });
    expect(select([atBoundary], d)).toEqual({ kind: 'none', reason: 'not_in_cohort' });
    expect(offeredBuild(select([justAbove], d))).toBe(2);
    expect(select([deployment(2, { percentage: 0 })], d)).toEqual({ kind: 'none', reason: 'not_in_cohort' });
  });

  it('offers an older in-cohort build when the newest is not in cohort', () => {
    const d = device();
    const out = deployment(3, { seed: 'x', percentage: bucket('x', d.deviceId) / 100 });
    expect(offeredBuild(select([out, deployment(2)], d))).toBe(2);
  });

  it('reports the furthest filter any deployment reached', () => {
    const d = device({ failedBuilds: [3] });
    const deps = [deployment(1), deployment(3), deployment(2, { channel: 'beta' })];
    expect(select(deps, d)).toEqual({ kind: 'none', reason: 'failed_before' });
    const inCohortNever = deployment(4, { percentage: 0 });
    expect(select([...deps, inCohortNever], d)).toEqual({ kind: 'none', reason: 'not_in_cohort' });
  });

  it("order 'latest' (the default) picks the highest eligible build, 'next' the lowest", () => {
    const deps = [deployment(3), deployment(5), deployment(4), deployment(1)];
    expect(offeredBuild(select(deps))).toBe(5);
    expect(offeredBuild(select(deps, device(), 'latest'))).toBe(5);
    expect(offeredBuild(select(deps, device(), 'next'))).toBe(3);
    // 'next' still skips failed builds.
    expect(offeredBuild(select(deps, device({ failedBuilds: [3] }), 'next'))).toBe(4);
  });

  it('breaks ties between deployments of the same build by oldest createdAt, then deploymentId', () => {
    const newer = deployment(2, { deploymentId: 'dep_a', createdAt: '2026-11-05T00:00:00Z' });
    const older = deployment(2, { deploymentId: 'dep_z', createdAt: '2026-11-02T00:00:00Z' });
    for (const order of ['latest', 'next'] as const) {
      expect(select([newer, older], device(), order)).toMatchObject({ kind: 'offer', deployment: { deploymentId: 'dep_z' } });
      expect(select([older, newer], device(), order)).toMatchObject({ kind: 'offer', deployment: { deploymentId: 'dep_z' } });
    }
    const b = deployment(2, { deploymentId: 'dep_b' });
    const a = deployment(2, { deploymentId: 'dep_a' });
    expect(select([b, a])).toMatchObject({ kind: 'offer', deployment: { deploymentId: 'dep_a' } });
  });

  it('does not mutate the deployments it is given', () => {
    const deps = [deployment(2), deployment(4), deployment(3)];
    const before = deps.map((d) => d.deploymentId);
    select(deps);
    select(deps, device(), 'next');
    expect(deps.map((d) => d.deploymentId)).toEqual(before);
  });

  it('always offers an eligible deployment, the highest build for latest and the lowest for next (property)', () => {
    const depArb = fc.record({
      build: fc.integer({ min: 1, max: 20 }),
      channel: fc.constantFrom('stable', 'beta'),
      state: fc.constantFrom('active', 'active', 'paused', 'cancelled', 'completed') as fc.Arbitrary<Deployment['state']>,
      percentage: fc.integer({ min: 0, max: 10000 }).map((bp) => bp / 100),
      seed: fc.constantFrom('a', 'b', 'c'),
    });
    const devArb = fc.record({
      deviceId: fc.constantFrom('AA:BB:CC:DD:EE:FF', 'dev-1', 'dev-2'),
      channel: fc.constantFrom('stable', 'beta'),
      currentBuild: fc.integer({ min: 0, max: 20 }),
      failedBuilds: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 5 }),
    });
    fc.assert(
      fc.property(fc.array(depArb, { maxLength: 8 }), devArb, fc.constantFrom('latest', 'next') as fc.Arbitrary<'latest' | 'next'>, (specs, dv, order) => {
        const deps = specs.map((s, i) => deployment(s.build, { ...s, deploymentId: `dep_${i}` }));
        const dev = device({ ...dv, hw: {} });
        const eligible = deps.filter(
          (d) =>
            d.state === 'active' &&
            d.channel === dev.channel &&
            d.build > dev.currentBuild! &&
            !dev.failedBuilds.includes(d.build) &&
            bucket(d.seed, dev.deviceId) < Math.round(d.percentage * 100),
        );
        const r = selectOffer({ device: dev, productChip: 'esp32', deployments: deps, order });
        if (!eligible.length) {
          expect(r.kind).toBe('none');
          return;
        }
        expect(r.kind).toBe('offer');
        if (r.kind !== 'offer') return;
        expect(eligible).toContain(r.deployment);
        const builds = eligible.map((d) => d.build);
        expect(r.deployment.build).toBe(order === 'latest' ? Math.max(...builds) : Math.min(...builds));
      }),
    );
  });
});
