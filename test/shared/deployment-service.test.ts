import * as configCache from '../../lambdas/shared/config-cache';
import { DeploymentService, type DeploymentSpec } from '../../lambdas/shared/deployment-service';
import { domainRejection } from '../support/domain-error';
import { memoryStores } from '../support/memory-stores';
import { deploymentRecord, firmwareRecord, productInput, recordingLogger, T0, testClock } from '../support/service-fixtures';

async function setup() {
  const stores = memoryStores();
  const clock = testClock();
  clock.advance(3600_000);
  const logger = recordingLogger();
  await stores.catalog.putProduct(productInput('lamp'), T0);
  await stores.catalog.putFirmware(firmwareRecord('lamp', 1));
  await stores.catalog.putFirmware(firmwareRecord('lamp', 2, 'DRAFT'));
  return { ...stores, clock, logger, service: new DeploymentService({ catalog: stores.catalog, deployments: stores.deployments, logger, now: clock.now }) };
}

const spec = (extra: Partial<DeploymentSpec> = {}): DeploymentSpec => ({ build: 1, percentage: 25, ...extra });

afterEach(() => jest.restoreAllMocks());

describe('DeploymentService.create', () => {
  it('expect an active deployment of the released build, stored, stamped and id-ed by the clock', async () => {
    const { service, deployments, clock } = await setup();
    const d = await service.create('lamp', spec({ channel: 'beta', seed: 'fixed' }));
    expect(d).toMatchObject({ productId: 'lamp', build: 1, percentage: 25, channel: 'beta', seed: 'fixed', state: 'active', createdAt: clock.iso() });
    expect(d.deploymentId).toMatch(new RegExp(`^dep_${clock.now().getTime().toString(36)}`));
    expect(await deployments.get('lamp', d.deploymentId)).toEqual(d);
  });

  it('expect the sweeper to watch it only when it has a schedule or an in-progress timeout', async () => {
    const { service, deployments } = await setup();
    const plain = await service.create('lamp', spec());
    const timed = await service.create('lamp', spec({ policy: { inProgressTimeoutMinutes: 30 } }));
    const scheduled = await service.create('lamp', { build: 1, steps: [{ percentage: 5, soakMinutes: 10, minSuccessRate: 0.9 }] });
    const watched = (await deployments.watched()).map((w) => w.deploymentId);
    expect(watched).not.toContain(plain.deploymentId);
    expect(watched).toEqual(expect.arrayContaining([timed.deploymentId, scheduled.deploymentId]));
    expect(scheduled.percentage).toBe(5);
  });

  it('expect product_not_found, firmware_not_found, firmware_not_released when product, build or release is missing', async () => {
    const { service, deployments } = await setup();
    expect((await domainRejection(service.create('nope', spec()))).code).toBe('product_not_found');
    expect((await domainRejection(service.create('lamp', spec({ build: 9 })))).code).toBe('firmware_not_found');
    const e = await domainRejection(service.create('lamp', spec({ build: 2 })));
    expect([e.kind, e.code]).toEqual(['conflict', 'firmware_not_released']);
    expect(await deployments.list('lamp')).toEqual([]);
  });

  it('expect the product config invalidated when a deployment is created', async () => {
    const { service } = await setup();
    const invalidate = jest.spyOn(configCache, 'invalidateProductConfig');
    await service.create('lamp', spec());
    expect(invalidate).toHaveBeenCalledWith('lamp');
  });
});

describe('DeploymentService.list', () => {
  it('expect newest first, filtered by state when asked', async () => {
    const { service, deployments } = await setup();
    await deployments.create(deploymentRecord('lamp', 'dep_1', 1, 'active', '2026-03-01T10:00:00.000Z'));
    await deployments.create(deploymentRecord('lamp', 'dep_2', 1, 'paused', '2026-03-01T12:00:00.000Z'));
    await deployments.create(deploymentRecord('lamp', 'dep_3', 1, 'active', '2026-03-01T11:00:00.000Z'));
    expect((await service.list('lamp')).map((d) => d.deploymentId)).toEqual(['dep_2', 'dep_3', 'dep_1']);
    expect((await service.list('lamp', { state: 'active' })).map((d) => d.deploymentId)).toEqual(['dep_3', 'dep_1']);
  });

  it('expect invalid_state for an unknown state, product_not_found for an unknown product', async () => {
    const { service } = await setup();
    const e = await domainRejection(service.list('lamp', { state: 'running' }));
    expect([e.kind, e.code]).toEqual(['invalid', 'invalid_state']);
    expect((await domainRejection(service.list('nope'))).code).toBe('product_not_found');
  });
});

describe('DeploymentService transitions', () => {
  async function withDeployment(state: 'active' | 'paused' | 'completed' | 'cancelled') {
    const s = await setup();
    await s.deployments.create(deploymentRecord('lamp', 'dep_a', 1, state));
    await s.deployments.watch('lamp', 'dep_a');
    return s;
  }

  it('expect paused (reason manual) when an active deployment is paused', async () => {
    const { service, clock } = await withDeployment('active');
    expect(await service.pause('lamp', 'dep_a')).toMatchObject({ state: 'paused', stateReason: 'manual', updatedAt: clock.iso() });
  });

  it('expect the deployment unchanged (idempotent) when it already is in the target state', async () => {
    for (const [state, move] of [
      ['paused', 'pause'],
      ['completed', 'complete'],
      ['cancelled', 'cancel'],
    ] as const) {
      const { service, deployments } = await withDeployment(state);
      const before = await deployments.get('lamp', 'dep_a');
      expect(await service[move]('lamp', 'dep_a')).toEqual(before);
    }
  });

  it('expect invalid_state conflict when the transition is not allowed from the current state', async () => {
    const cases = [
      ['completed', 'pause', 'Deployment is completed; cannot move to paused'],
      ['cancelled', 'complete', 'Deployment is cancelled; cannot move to completed'],
      ['completed', 'cancel', 'Deployment is completed; cannot move to cancelled'],
    ] as const;
    for (const [state, move, message] of cases) {
      const { service, deployments } = await withDeployment(state);
      const e = await domainRejection(service[move]('lamp', 'dep_a'));
      expect([e.kind, e.code, e.message]).toEqual(['conflict', 'invalid_state', message]);
      expect((await deployments.get('lamp', 'dep_a'))?.state).toBe(state);
      // A refused finish leaves the sweeper's list alone.
      expect(await deployments.watched()).toHaveLength(1);
    }
  });

  it('expect finished and off the sweeper list when a paused deployment is completed or an active one cancelled', async () => {
    for (const [state, move, to] of [
      ['paused', 'complete', 'completed'],
      ['active', 'cancel', 'cancelled'],
    ] as const) {
      const { service, deployments } = await withDeployment(state);
      expect(await service[move]('lamp', 'dep_a')).toMatchObject({ state: to, stateReason: 'manual' });
      expect(await deployments.watched()).toEqual([]);
    }
  });

  it('expect deployment_not_found when the deployment does not exist', async () => {
    const { service } = await setup();
    for (const move of ['pause', 'complete', 'cancel', 'resume', 'get'] as const) {
      const e = await domainRejection(service[move]('lamp', 'dep_x'));
      expect([e.kind, e.code, e.message]).toEqual(['not_found', 'deployment_not_found', 'Deployment dep_x does not exist']);
    }
    expect((await domainRejection(service.promote('lamp', 'dep_x', 50))).code).toBe('deployment_not_found');
  });
});

describe('DeploymentService.promote', () => {
  it('expect the percentage raised (or kept) when the deployment is active or paused', async () => {
    const { service, deployments } = await setup();
    await deployments.create(deploymentRecord('lamp', 'dep_a', 1, 'paused'));
    expect((await service.promote('lamp', 'dep_a', 50)).percentage).toBe(50);
    expect((await service.promote('lamp', 'dep_a', 50)).percentage).toBe(50);
  });

  it('expect percentage_decrease and the percentage kept when asked to lower it', async () => {
    const { service, deployments } = await setup();
    await deployments.create(deploymentRecord('lamp', 'dep_a', 1));
    const e = await domainRejection(service.promote('lamp', 'dep_a', 5));
    expect([e.kind, e.code, e.message]).toEqual(['conflict', 'percentage_decrease', 'Percentage can only grow (now 10); pause instead']);
    expect((await deployments.get('lamp', 'dep_a'))?.percentage).toBe(10);
  });

  it('expect invalid_state when the deployment is finished', async () => {
    const { service, deployments } = await setup();
    await deployments.create(deploymentRecord('lamp', 'dep_a', 1, 'completed'));
    const e = await domainRejection(service.promote('lamp', 'dep_a', 50));
    expect([e.code, e.message]).toEqual(['invalid_state', 'Deployment is completed']);
  });
});

describe('DeploymentService.resume', () => {
  it('expect active with the failure policy baseline reset when a paused deployment resumes', async () => {
    const { service, deployments } = await setup();
    await deployments.create(deploymentRecord('lamp', 'dep_a', 1, 'paused'));
    await deployments.increment('lamp', 'dep_a', ['failed', 'succeeded']);
    const d = await service.resume('lamp', 'dep_a');
    expect(d).toMatchObject({ state: 'active', policyBaseline: { failed: 1, succeeded: 1, rolledBack: 0, timedOut: 0 } });
    expect(d).not.toHaveProperty('stateReason');
  });

  it('expect firmware_revoked and still paused when its build was revoked', async () => {
    const { service, deployments, catalog } = await setup();
    await deployments.create(deploymentRecord('lamp', 'dep_a', 1, 'paused'));
    await catalog.transitionFirmware('lamp', 1, ['RELEASED'], 'REVOKED', T0);
    const e = await domainRejection(service.resume('lamp', 'dep_a'));
    expect([e.kind, e.code, e.message]).toEqual(['conflict', 'firmware_revoked', 'Build 1 is revoked']);
    expect((await deployments.get('lamp', 'dep_a'))?.state).toBe('paused');
  });

  it('expect the deployment unchanged when already active, invalid_state when finished', async () => {
    const { service, deployments } = await setup();
    await deployments.create(deploymentRecord('lamp', 'dep_a', 1, 'active'));
    await deployments.create(deploymentRecord('lamp', 'dep_b', 1, 'cancelled'));
    expect(await service.resume('lamp', 'dep_a')).toEqual(await deployments.get('lamp', 'dep_a'));
    const e = await domainRejection(service.resume('lamp', 'dep_b'));
    expect([e.code, e.message]).toEqual(['invalid_state', 'Deployment is cancelled; cannot move to active']);
  });
});
