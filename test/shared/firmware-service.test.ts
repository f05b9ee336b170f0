import * as configCache from '../../lambdas/shared/config-cache';
import { FirmwareService } from '../../lambdas/shared/firmware-service';
import { domainRejection } from '../support/domain-error';
import { memoryStores } from '../support/memory-stores';
import { deploymentRecord, firmwareRecord, productInput, recordingLogger, T0, testClock } from '../support/service-fixtures';

async function setup() {
  const stores = memoryStores();
  const clock = testClock();
  clock.advance(3600_000);
  const logger = recordingLogger();
  await stores.catalog.putProduct(productInput('lamp'), T0);
  return { ...stores, clock, logger, service: new FirmwareService({ catalog: stores.catalog, deployments: stores.deployments, logger, now: clock.now }) };
}

afterEach(() => jest.restoreAllMocks());

describe('FirmwareService.list', () => {
  it('expect product_not_found when the product does not exist', async () => {
    const { service } = await setup();
    expect((await domainRejection(service.list('nope'))).code).toBe('product_not_found');
  });

  it('expect builds newest first, paged, and filtered by state', async () => {
    const { service, catalog } = await setup();
    for (const b of [1, 2, 3]) await catalog.putFirmware(firmwareRecord('lamp', b, b === 2 ? 'DRAFT' : 'RELEASED'));
    const first = await service.list('lamp', { limit: 2 });
    expect(first.items.map((f) => f.build)).toEqual([3, 2]);
    expect((await service.list('lamp', { limit: 2, cursor: first.cursor })).items.map((f) => f.build)).toEqual([1]);
    expect((await service.list('lamp', { state: 'DRAFT' })).items.map((f) => f.build)).toEqual([2]);
  });
});

describe('FirmwareService.get', () => {
  it('expect firmware_not_found when the build does not exist', async () => {
    const { service } = await setup();
    const e = await domainRejection(service.get('lamp', 7));
    expect([e.kind, e.code, e.message]).toEqual(['not_found', 'firmware_not_found', 'Build 7 of lamp does not exist']);
  });
});

describe('FirmwareService.release', () => {
  it('expect RELEASED stamped with the clock when the build is a draft', async () => {
    const { service, catalog, clock } = await setup();
    await catalog.putFirmware(firmwareRecord('lamp', 1, 'DRAFT'));
    expect(await service.release('lamp', 1)).toMatchObject({ firmware: { state: 'RELEASED', releasedAt: clock.iso() }, warnings: [] });
  });

  it('expect a warning when the build raises secure_version above every build released before, none when it does not', async () => {
    const { service, catalog } = await setup();
    const withSv = (build: number, state: 'DRAFT' | 'RELEASED', secureVersion: number) => {
      const f = firmwareRecord('lamp', build, state);
      return { ...f, app: { ...f.app, secureVersion } };
    };
    await catalog.putFirmware(withSv(1, 'RELEASED', 1));
    await catalog.putFirmware(withSv(2, 'DRAFT', 1));
    await catalog.putFirmware(withSv(3, 'DRAFT', 2));
    expect((await service.release('lamp', 2)).warnings).toEqual([]);
    const [warning] = (await service.release('lamp', 3)).warnings;
    expect(warning).toMatch(/raises secure_version to 2 .*at most 1.*eFuse for good/);
  });

  it('expect the build unchanged (idempotent) when it is already released', async () => {
    const { service, catalog, clock } = await setup();
    await catalog.putFirmware(firmwareRecord('lamp', 1, 'DRAFT'));
    const first = await service.release('lamp', 1);
    clock.advance(1000);
    expect(await service.release('lamp', 1)).toEqual(first);
    expect(first.firmware.state).toBe('RELEASED');
  });

  it('expect invalid_state when the build is revoked, firmware_not_found when it does not exist', async () => {
    const { service, catalog } = await setup();
    await catalog.putFirmware(firmwareRecord('lamp', 1, 'REVOKED'));
    const e = await domainRejection(service.release('lamp', 1));
    expect([e.kind, e.code, e.message]).toEqual(['conflict', 'invalid_state', 'Build 1 is REVOKED and cannot be released']);
    expect((await catalog.getFirmware('lamp', 1))?.state).toBe('REVOKED');
    expect((await domainRejection(service.release('lamp', 9))).code).toBe('firmware_not_found');
  });
});

describe('FirmwareService.revoke', () => {
  it('expect exactly the active deployments of that build paused when a build is revoked', async () => {
    const { service, catalog, deployments, clock } = await setup();
    await catalog.putFirmware(firmwareRecord('lamp', 2));
    await catalog.putFirmware(firmwareRecord('lamp', 3));
    await deployments.create(deploymentRecord('lamp', 'dep_a', 2, 'active'));
    await deployments.create(deploymentRecord('lamp', 'dep_b', 2, 'paused'));
    await deployments.create(deploymentRecord('lamp', 'dep_c', 3, 'active'));
    await deployments.create(deploymentRecord('lamp', 'dep_d', 2, 'completed'));
    await deployments.create(deploymentRecord('lamp', 'dep_e', 2, 'active'));
    await deployments.create(deploymentRecord('other', 'dep_f', 2, 'active'));

    const { firmware, pausedDeployments } = await service.revoke('lamp', 2);
    expect(firmware).toMatchObject({ build: 2, state: 'REVOKED', revokedAt: clock.iso() });
    expect(pausedDeployments).toEqual(['dep_a', 'dep_e']);
    const states = Object.fromEntries((await deployments.list('lamp')).map((d) => [d.deploymentId, [d.state, d.stateReason]]));
    expect(states).toEqual({
      dep_a: ['paused', 'firmware_revoked'],
      dep_b: ['paused', undefined],
      dep_c: ['active', undefined],
      dep_d: ['completed', undefined],
      dep_e: ['paused', 'firmware_revoked'],
    });
    expect((await deployments.get('other', 'dep_f'))?.state).toBe('active');
  });

  it('expect the revoked build again, and nothing more paused, when it is revoked twice', async () => {
    const { service, catalog, deployments, clock } = await setup();
    await catalog.putFirmware(firmwareRecord('lamp', 2));
    await deployments.create(deploymentRecord('lamp', 'dep_a', 2));
    const first = await service.revoke('lamp', 2);
    clock.advance(1000);
    const again = await service.revoke('lamp', 2);
    expect(again).toEqual({ firmware: first.firmware, pausedDeployments: [] });
  });

  it('expect a draft revocable, firmware_not_found for an unknown build', async () => {
    const { service, catalog } = await setup();
    await catalog.putFirmware(firmwareRecord('lamp', 1, 'DRAFT'));
    expect((await service.revoke('lamp', 1)).firmware.state).toBe('REVOKED');
    expect((await domainRejection(service.revoke('lamp', 9))).code).toBe('firmware_not_found');
  });

  it('expect the product config invalidated and the revocation logged', async () => {
    const { service, catalog, logger } = await setup();
    const invalidate = jest.spyOn(configCache, 'invalidateProductConfig');
    await catalog.putFirmware(firmwareRecord('lamp', 2));
    await service.revoke('lamp', 2);
    expect(invalidate).toHaveBeenCalledWith('lamp');
    expect(logger.lines).toContainEqual({ message: 'firmware revoked', extra: { build: 2, pausedDeployments: [] } });
  });
});
