import { hashSecret } from '../../lambdas/core/security';
import { DeviceAdminService, parseDeviceId, type AssignRequest } from '../../lambdas/shared/device-admin-service';
import { domainError, domainRejection } from '../support/domain-error';
import { memoryStores } from '../support/memory-stores';
import { deviceRecord, firmwareRecord, productInput, recordingLogger, T0, testClock } from '../support/service-fixtures';

const MAC = 'AA:BB:CC:DD:EE:01';

async function setup() {
  const stores = memoryStores();
  const clock = testClock();
  clock.advance(3600_000);
  const logger = recordingLogger();
  await stores.catalog.putProduct(productInput('lamp'), T0);
  for (const b of [1, 2, 3]) await stores.catalog.putFirmware(firmwareRecord('lamp', b));
  await stores.catalog.putFirmware(firmwareRecord('lamp', 4, 'DRAFT'));
  return { ...stores, clock, logger, service: new DeviceAdminService({ catalog: stores.catalog, devices: stores.devices, logger, now: clock.now }) };
}

describe('parseDeviceId', () => {
  it('expect MACs normalised and other ids kept when the id is valid', () => {
    expect(parseDeviceId('aabbccddee01')).toBe(MAC);
    expect(parseDeviceId('aa-bb-cc-dd-ee-01')).toBe(MAC);
    expect(parseDeviceId('sensor-7')).toBe('sensor-7');
  });

  it('expect invalid_device_id when the id is missing or malformed', () => {
    for (const raw of [undefined, '', '-x', 'a b', 'x'.repeat(65)]) {
      const e = domainError(() => parseDeviceId(raw));
      expect([e.kind, e.code]).toEqual(['invalid', 'invalid_device_id']);
    }
  });
});

describe('DeviceAdminService.get / list', () => {
  it('expect the device by any spelling of its MAC, device_not_found when unknown', async () => {
    const { service, devices } = await setup();
    await devices.register(deviceRecord('lamp', MAC));
    expect((await service.get('lamp', 'aa:bb:cc:dd:ee:01')).deviceId).toBe(MAC);
    const e = await domainRejection(service.get('lamp', 'AA:BB:CC:DD:EE:02'));
    expect([e.kind, e.code, e.message]).toEqual(['not_found', 'device_not_found', 'Device AA:BB:CC:DD:EE:02 of lamp does not exist']);
  });

  it('expect devices by id, paged and by prefix; product_not_found for an unknown product', async () => {
    const { service, devices } = await setup();
    for (const id of ['b', 'a', 'c', 'ab']) await devices.register(deviceRecord('lamp', id));
    const first = await service.list('lamp', { limit: 2 });
    expect(first.items.map((d) => d.deviceId)).toEqual(['a', 'ab']);
    expect((await service.list('lamp', { limit: 2, cursor: first.cursor })).items.map((d) => d.deviceId)).toEqual(['b', 'c']);
    expect((await service.list('lamp', { prefix: 'a' })).items.map((d) => d.deviceId)).toEqual(['a', 'ab']);
    expect((await domainRejection(service.list('nope'))).code).toBe('product_not_found');
  });
});

describe('DeviceAdminService.patch', () => {
  it('expect only the given settings changed when a device is patched', async () => {
    const { service, devices } = await setup();
    await devices.register(deviceRecord('lamp', MAC, { groups: ['g1'], tags: { room: 'a' } }));
    const d = await service.patch('lamp', MAC, { channel: 'beta', active: false, groups: undefined });
    expect(d).toMatchObject({ channel: 'beta', active: false, groups: ['g1'], tags: { room: 'a' } });
  });

  it('expect device_not_found naming the id as given when the device does not exist', async () => {
    const { service } = await setup();
    const e = await domainRejection(service.patch('lamp', 'aabbccddee09', { active: false }));
    expect([e.code, e.message]).toEqual(['device_not_found', 'Device aabbccddee09 of lamp does not exist']);
  });
});

describe('DeviceAdminService.issueToken', () => {
  it('expect a new device registered with the token hash (and its global id on IoTaaP products)', async () => {
    const { service, devices, catalog, logger } = await setup();
    await catalog.putProduct(productInput('iot', { iotaap: true }), T0);
    const { deviceId, token } = await service.issueToken('iot', 'aabbccddee01');
    expect(deviceId).toBe(MAC);
    expect(await devices.get('iot', MAC)).toMatchObject({ tokenHash: hashSecret(token), globalId: MAC, channel: 'stable', active: true });
    expect(logger.messages()).toContain('device token issued');
  });

  it('expect only the token replaced when the device exists', async () => {
    const { service, devices } = await setup();
    await devices.register(deviceRecord('lamp', MAC, { channel: 'beta', tokenHash: 'old' }));
    const { token } = await service.issueToken('lamp', MAC);
    expect(await devices.get('lamp', MAC)).toMatchObject({ channel: 'beta', tokenHash: hashSecret(token) });
  });

  it('expect product_not_found before the device id is looked at', async () => {
    const { service } = await setup();
    expect((await domainRejection(service.issueToken('nope', 'bad id'))).code).toBe('product_not_found');
    expect((await domainRejection(service.issueToken('lamp', 'bad id'))).code).toBe('invalid_device_id');
  });
});

describe('DeviceAdminService.assign', () => {
  const req = (build: number, extra: Partial<AssignRequest> = {}): AssignRequest => ({ build, ...extra });

  it('expect a pending assignment of the released build, and the device registered, when the device is new', async () => {
    const { service, devices, clock } = await setup();
    const { outcome, assignment } = await service.assign('lamp', 'aabbccddee01', req(2));
    expect(outcome).toBe('assigned');
    expect(assignment).toMatchObject({ build: 2, state: 'pending', assignedAt: clock.iso(), firmware: { build: 2, version: '1.2.0' } });
    expect(assignment.assignmentId).toMatch(/^asg_/);
    expect((await devices.get('lamp', MAC))?.assignment).toEqual(assignment);
  });

  it('expect firmware_not_released when the build is a draft, firmware_not_found when it does not exist', async () => {
    const { service, devices } = await setup();
    const e = await domainRejection(service.assign('lamp', MAC, req(4)));
    expect([e.kind, e.code, e.message]).toEqual(['conflict', 'firmware_not_released', 'Build 4 is DRAFT; release it first']);
    expect((await domainRejection(service.assign('lamp', MAC, req(9)))).code).toBe('firmware_not_found');
    expect(await devices.get('lamp', MAC)).toBeUndefined();
  });

  it('expect build_failed_before, saying how it failed, when the device failed that build and no retry is asked', async () => {
    const { service, devices } = await setup();
    await devices.register(deviceRecord('lamp', MAC));
    await devices.recordReport('lamp', MAC, { build: 2, status: 'rolled_back', at: T0, message: 'boot loop' });
    const e = await domainRejection(service.assign('lamp', MAC, req(2)));
    expect([e.kind, e.code]).toEqual(['conflict', 'build_failed_before']);
    expect(e.message).toBe(`Device ${MAC} rolled_back: boot loop with build 2; send "retry": true to clear it and assign it again`);
    expect((await devices.get('lamp', MAC))?.assignment).toBeUndefined();
  });

  it('expect the failed build cleared, recorded in the history, and assigned when retry is asked', async () => {
    const { service, devices, clock } = await setup();
    await devices.register(deviceRecord('lamp', MAC));
    await devices.recordReport('lamp', MAC, { build: 2, status: 'failed', at: T0 });
    await devices.recordReport('lamp', MAC, { build: 3, status: 'failed', at: T0 });
    const { outcome } = await service.assign('lamp', MAC, req(2, { retry: true }));
    expect(outcome).toBe('assigned');
    const d = (await devices.get('lamp', MAC))!;
    expect(d.failedBuilds).toEqual([3]);
    expect(d.history?.at(-1)).toEqual({ build: 2, status: 'failed_build_cleared', at: clock.iso(), message: 'retry requested with an assignment' });
  });

  it('expect downgrade when the build is older than what the device runs, unless allowDowngrade', async () => {
    const { service, devices } = await setup();
    await devices.register(deviceRecord('lamp', MAC, { currentVersion: '1.3.0' }));
    const e = await domainRejection(service.assign('lamp', MAC, req(1)));
    expect([e.kind, e.code, e.message]).toEqual([
      'conflict',
      'downgrade',
      `Build 1 (1.1.0) is older than what device ${MAC} runs (1.3.0); send "allow_downgrade": true to assign it`,
    ]);
    expect((await service.assign('lamp', MAC, req(1, { allowDowngrade: true }))).outcome).toBe('assigned');
    expect((await service.assign('lamp', 'other', req(3))).outcome).toBe('assigned');
  });

  it('expect assignment_pending when another build is open, replaced when replace is asked', async () => {
    const { service, devices } = await setup();
    const first = await service.assign('lamp', MAC, req(2));
    const e = await domainRejection(service.assign('lamp', MAC, req(3)));
    expect([e.kind, e.code]).toEqual(['conflict', 'assignment_pending']);
    expect((await devices.get('lamp', MAC))?.assignment).toEqual(first.assignment);
    const replaced = await service.assign('lamp', MAC, req(3, { replace: true }));
    expect(replaced.outcome).toBe('assigned');
    expect(replaced.assignment.build).toBe(3);
  });

  it('expect unchanged and the open assignment kept when the same build is assigned again', async () => {
    const { service } = await setup();
    const first = await service.assign('lamp', MAC, req(2));
    const again = await service.assign('lamp', MAC, req(2));
    expect(again).toEqual({ outcome: 'unchanged', assignment: first.assignment });
  });

  it('expect a new assignment when the previous one finished', async () => {
    const { service, devices } = await setup();
    const first = await service.assign('lamp', MAC, req(2));
    await devices.transitionAssignment('lamp', MAC, first.assignment.assignmentId, ['pending'], 'applied', T0);
    expect((await service.assign('lamp', MAC, req(3))).outcome).toBe('assigned');
  });
});

describe('DeviceAdminService assignment read and cancel', () => {
  it('expect assignment_not_found when the device has none, the assignment when it has one', async () => {
    const { service, devices } = await setup();
    await devices.register(deviceRecord('lamp', MAC));
    const e = await domainRejection(service.getAssignment('lamp', MAC));
    expect([e.kind, e.code, e.message]).toEqual(['not_found', 'assignment_not_found', 'The device has no assignment']);
    const { assignment } = await service.assign('lamp', MAC, { build: 2 });
    expect(await service.getAssignment('lamp', MAC)).toEqual(assignment);
  });

  it('expect the open assignment removed when cancelled, assignment_not_found when there is none open', async () => {
    const { service, devices } = await setup();
    await service.assign('lamp', MAC, { build: 2 });
    await service.cancelAssignment('lamp', MAC);
    expect((await devices.get('lamp', MAC))?.assignment).toBeUndefined();
    const e = await domainRejection(service.cancelAssignment('lamp', MAC));
    expect([e.code, e.message]).toEqual(['assignment_not_found', 'The device has no open assignment']);
  });
});

describe('DeviceAdminService.clearFailedBuilds', () => {
  async function failedDevice() {
    const s = await setup();
    await s.devices.register(deviceRecord('lamp', MAC));
    for (const build of [1, 2]) await s.devices.recordReport('lamp', MAC, { build, status: 'failed', at: T0 });
    return s;
  }

  it('expect only that build cleared, recorded in the history, when a build is given', async () => {
    const { service, clock, logger } = await failedDevice();
    const d = await service.clearFailedBuilds('lamp', MAC, 2);
    expect(d.failedBuilds).toEqual([1]);
    expect(d.history?.at(-1)).toEqual({ build: 2, status: 'failed_build_cleared', at: clock.iso(), message: 'cleared by an operator' });
    expect(logger.lines).toContainEqual({ message: 'failed builds cleared', extra: { productId: 'lamp', deviceId: MAC, builds: [2] } });
  });

  it('expect every failed build cleared when no build is given, nothing written when there are none', async () => {
    const { service } = await failedDevice();
    const d = await service.clearFailedBuilds('lamp', MAC);
    expect(d.failedBuilds).toEqual([]);
    expect(d.history?.filter((e) => e.status === 'failed_build_cleared').map((e) => e.build)).toEqual([1, 2]);
    expect((await service.clearFailedBuilds('lamp', MAC)).history).toEqual(d.history);
  });

  it('expect device_not_found when the device does not exist', async () => {
    const { service } = await setup();
    expect((await domainRejection(service.clearFailedBuilds('lamp', MAC))).code).toBe('device_not_found');
  });
});

describe('DeviceAdminService.iotaapOtas', () => {
  it('expect the assignment of every device of every IoTaaP-bound product, across pages', async () => {
    const { service, catalog, devices } = await setup();
    await catalog.putProduct(productInput('iot', { iotaap: true }), T0);
    await catalog.claimAlias('iotaap#iot', 'iot');
    // An alias that does not name its own product is not an IoTaaP binding.
    await catalog.claimAlias('iotaap#stray', 'lamp');
    await catalog.putFirmware(firmwareRecord('iot', 1));
    for (let i = 0; i < 205; i++) await devices.register(deviceRecord('iot', `dev-${String(i).padStart(3, '0')}`));
    const iot = new DeviceAdminService({ catalog, devices, logger: recordingLogger(), now: testClock().now });
    await iot.assign('iot', 'dev-204', { build: 1 });
    await iot.assign('iot', 'dev-000', { build: 1 });
    await service.assign('lamp', MAC, { build: 1 });

    const otas = await service.iotaapOtas();
    expect(otas.map((o) => o.device)).toEqual(['dev-000', 'dev-204']);
    const a = (await devices.get('iot', 'dev-000'))!.assignment!;
    expect(otas[0]).toEqual({
      _id: a.assignmentId,
      device: 'dev-000',
      __v: 0,
      last_updated: a.assignedAt,
      owner: 'iot',
      path: 'firmware/iot/1/app.bin',
      version: '1.1.0',
    });
  });
});
