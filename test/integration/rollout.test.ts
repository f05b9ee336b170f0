/**
 * Rollout safety over real HTTP against the local platform: cohorts never shrink on promote, a
 * failure policy pauses a deployment exactly once under concurrent reports and it then offers
 * nothing, timed-out offers count, failed builds are never re-offered, scheduled canaries advance
 * only through their gate, and the compatibility and targeting rules hold.
 */
import { inCohort } from '../../lambdas/core/cohort';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;
const builds: Record<string, number> = {};

beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'ro', { chip: 'esp32' });
  for (const [v, fill, extra] of [
    ['1.0.0', 1, {}],
    ['1.1.0', 2, {}],
    ['1.2.0', 3, {}],
    ['2.0.0', 4, { min_version: '1.2.0' }],
    ['1.5.0', 5, { required_step: true }],
    ['3.0.0', 6, { hw_revision_min: 2, hw_revision_max: 3 }],
  ] as const) {
    const r = await publishRelease(t.platform, {
      product: 'ro',
      version: v,
      files: { 'fw.bin': buildEspImage({ version: v, fill }) },
      manifest: { release: true, ...extra },
    });
    expect(r.status).toBe('accepted');
    builds[v] = r.build_number;
  }
}, 60_000);
afterAll(async () => {
  await t?.platform.stop();
});

const check = (device_id: string, extra: Record<string, unknown> = {}) =>
  t.api.post('/api/v1/ota/check/', { product: 'ro', device_id, version: '1.0.0', ...extra });
const report = (device_id: string, build_number: number, status: string) =>
  t.api.post('/api/v1/ota/status/', { product: 'ro', device_id, build_number, status });
const deploy = async (body: Record<string, unknown>) => {
  const r = await t.api.post('/admin/v1/products/ro/deployments', body);
  expect(r.status).toBe(201);
  return r.body;
};
const getDeployment = async (id: string) => (await t.api.get(`/admin/v1/products/ro/deployments/${id}`)).body;
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
const minutesFrom = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000);

it('cohort membership never shrinks on promote', async () => {
  const dep = await deploy({ build: builds['1.1.0'], percentage: 10, channel: 'promote', seed: 'fixed-seed' });
  const fleet = ids('coh', 200);
  const offeredAt = async () => {
    const got = new Set<string>();
    for (const id of fleet) if ((await check(id, { channel: 'promote' })).body.status === 'update_available') got.add(id);
    return got;
  };
  const at10 = await offeredAt();
  expect(at10.size).toBeGreaterThan(8); // ≈ 20 of 200
  expect(at10.size).toBeLessThan(40);
  for (const id of fleet) expect(at10.has(id)).toBe(inCohort('fixed-seed', id, 10));
  expect((await t.api.post(`/admin/v1/products/ro/deployments/${dep.deployment_id}/promote`, { percentage: 35.5 })).status).toBe(200);
  const at35 = await offeredAt();
  for (const id of at10) expect(at35.has(id)).toBe(true);
  expect(at35.size).toBeGreaterThan(at10.size);
  // Lowering is refused: it would drop devices.
  expect((await t.api.post(`/admin/v1/products/ro/deployments/${dep.deployment_id}/promote`, { percentage: 20 })).status).toBe(409);
});

it('a deployment with max_failures=5 hit by 200 concurrent failure reports pauses exactly once and offers nothing afterwards', async () => {
  const dep = await deploy({ build: builds['1.1.0'], percentage: 100, channel: 'storm', max_failures: 5 });
  const fleet = ids('storm', 200);
  for (const id of fleet) expect((await check(id, { channel: 'storm' })).body.deployment_id).toBe(dep.deployment_id);
  const replies = await Promise.all(fleet.map((id) => report(id, builds['1.1.0']!, 'failed')));
  expect(replies.every((r) => r.status === 200 && r.body.result === 'recorded')).toBe(true);

  const after = await getDeployment(dep.deployment_id);
  expect(after.state).toBe('paused');
  expect(after.auto_pauses).toBe(1);
  expect(after.state_reason).toMatch(/max_failures 5/);
  expect(after.counts).toMatchObject({ offered: 200, failed: 200 });
  // Nothing is offered from now on, to anyone.
  expect((await check('storm-newcomer', { channel: 'storm' })).body.status).toBe('no_update');
  // Resuming accepts what came before: the policy judges failures from then on (5 more pause it again, once).
  expect((await t.api.post(`/admin/v1/products/ro/deployments/${dep.deployment_id}/resume`)).status).toBe(200);
  const late = ids('storm-late', 5);
  for (const id of late) expect((await check(id, { channel: 'storm' })).body.status).toBe('update_available');
  for (const id of late.slice(0, 4)) await report(id, builds['1.1.0']!, 'rolled_back');
  expect(await getDeployment(dep.deployment_id)).toMatchObject({ state: 'active', auto_pauses: 1 });
  await report(late[4]!, builds['1.1.0']!, 'failed');
  expect(await getDeployment(dep.deployment_id)).toMatchObject({ state: 'paused', auto_pauses: 2 });
});

it('pauses on max_failure_rate once min_sample outcomes exist', async () => {
  const dep = await deploy({ build: builds['1.1.0'], percentage: 100, channel: 'rate', max_failure_rate: 0.5, min_sample: 4 });
  const fleet = ids('rate', 6);
  for (const id of fleet) await check(id, { channel: 'rate' });
  await report(fleet[0]!, builds['1.1.0']!, 'failed');
  await report(fleet[1]!, builds['1.1.0']!, 'failed'); // 2/2 failed, but fewer than 4 outcomes
  expect((await getDeployment(dep.deployment_id)).state).toBe('active');
  await report(fleet[2]!, builds['1.1.0']!, 'success');
  await report(fleet[3]!, builds['1.1.0']!, 'failed'); // 3/4 ≥ 0.5
  const d = await getDeployment(dep.deployment_id);
  expect(d.state).toBe('paused');
  expect(d.state_reason).toMatch(/failure rate/);
});

it('a timed-out offer counts toward the policy, once, and a late report does not count twice', async () => {
  const dep = await deploy({ build: builds['1.1.0'], percentage: 100, channel: 'slow', in_progress_timeout_minutes: 30, max_failures: 2 });
  for (const id of ['slow-a', 'slow-b', 'slow-c']) await check(id, { channel: 'slow' });
  await report('slow-c', builds['1.1.0']!, 'success'); // finished in time: never times out
  expect((await getDeployment(dep.deployment_id)).counts.in_flight).toBe(2);

  // Before the timeout: nothing happens.
  let sweep = await t.platform.sweep(minutesFrom(dep.created_at, 10));
  expect(sweep.timedOut).toBe(0);
  // After it: the two unfinished offers time out, the policy pauses the deployment.
  sweep = await t.platform.sweep(minutesFrom(dep.created_at, 31));
  expect(sweep.timedOut).toBe(2);
  expect(sweep.autoPaused).toEqual([dep.deployment_id]);
  let d = await getDeployment(dep.deployment_id);
  expect(d.counts).toMatchObject({ offered: 3, succeeded: 1, timed_out: 2, in_flight: 0 });
  expect(d.state).toBe('paused');
  expect(d.state_reason).toMatch(/max_failures 2/);

  // A second sweep finds nothing more; a late success is recorded on the device but not counted twice.
  expect((await t.platform.sweep(minutesFrom(dep.created_at, 60))).timedOut).toBe(0);
  expect((await report('slow-a', builds['1.1.0']!, 'success')).body.result).toBe('recorded');
  d = await getDeployment(dep.deployment_id);
  expect(d.counts).toMatchObject({ succeeded: 1, timed_out: 2 });
  expect((await t.api.get('/admin/v1/products/ro/devices/slow-a')).body).toMatchObject({ current_build: builds['1.1.0'] });
});

it('a device never gets a build it failed or rolled back from, in any deployment', async () => {
  await deploy({ build: builds['1.2.0'], percentage: 100, channel: 'never' });
  expect((await check('nev-1', { channel: 'never' })).body.build_number).toBe(builds['1.2.0']);
  await report('nev-1', builds['1.2.0']!, 'rolled_back');
  expect((await check('nev-1', { channel: 'never' })).body.status).toBe('no_update');
  // A second deployment of the same build does not bring it back.
  await deploy({ build: builds['1.2.0'], percentage: 100, channel: 'never' });
  expect((await check('nev-1', { channel: 'never' })).body.status).toBe('no_update');
  expect((await check('nev-2', { channel: 'never' })).body.build_number).toBe(builds['1.2.0']);
});

describe('a scheduled canary', () => {
  const SEED = 'canary-seed';
  // Devices inside the first step's cohort (1 %) and outside it but inside the second's (10 %).
  const inFirst = ids('can', 5000)
    .filter((id) => inCohort(SEED, id, 1))
    .slice(0, 3);
  const onlySecond = ids('can', 5000)
    .filter((id) => !inCohort(SEED, id, 1) && inCohort(SEED, id, 10))
    .slice(0, 3);

  it('advances only when its gate passes', async () => {
    expect(inFirst).toHaveLength(3);
    const dep = await deploy({
      build: builds['1.1.0'],
      channel: 'canary',
      seed: SEED,
      schedule: [
        { percentage: 1, soak_minutes: 60, min_success_rate: 0.9 },
        { percentage: 10, soak_minutes: 60, min_success_rate: 0.9 },
        { percentage: 100, soak_minutes: 0, min_success_rate: 0 },
      ],
    });
    expect(dep).toMatchObject({ percentage: 1, schedule: { current_step: 0 } });
    expect((await check(onlySecond[0]!, { channel: 'canary' })).body.status).toBe('no_update');

    // Soaked but nothing proves the build works yet: no promotion.
    expect((await t.platform.sweep(minutesFrom(dep.created_at, 61))).promoted).toEqual([]);
    for (const id of inFirst) expect((await check(id, { channel: 'canary' })).body.status).toBe('update_available');
    await report(inFirst[0]!, builds['1.1.0']!, 'success');
    // Not soaked yet (clock before 60 min): no promotion even with a perfect record.
    expect((await t.platform.sweep(minutesFrom(dep.created_at, 30))).promoted).toEqual([]);
    // Soaked and 1/1 succeeded: step 1 (10 %).
    const promoted = await t.platform.sweep(minutesFrom(dep.created_at, 61));
    expect(promoted.promoted).toEqual([{ deploymentId: dep.deployment_id, step: 1, percentage: 10 }]);
    let d = await getDeployment(dep.deployment_id);
    expect(d).toMatchObject({ percentage: 10, schedule: { current_step: 1 } });
    expect((await check(onlySecond[0]!, { channel: 'canary' })).body.status).toBe('update_available');

    // Step 1's gate fails (1 success, 2 failures → 33 %): it stays at 10 % however long it soaks.
    await report(inFirst[1]!, builds['1.1.0']!, 'failed');
    await report(inFirst[2]!, builds['1.1.0']!, 'failed');
    expect((await t.platform.sweep(minutesFrom(d.schedule.step_started_at, 600))).promoted).toEqual([]);
    d = await getDeployment(dep.deployment_id);
    expect(d).toMatchObject({ percentage: 10, schedule: { current_step: 1 } });

    // More successes restore the rate (4/6 < 0.9 still fails; 18/20 passes).
    for (const id of ids('can-more', 5000)
      .filter((x) => inCohort(SEED, x, 10))
      .slice(0, 17)) {
      await check(id, { channel: 'canary' });
      await report(id, builds['1.1.0']!, 'success');
    }
    const last = await t.platform.sweep(minutesFrom(d.schedule.step_started_at, 61));
    expect(last.promoted).toEqual([{ deploymentId: dep.deployment_id, step: 2, percentage: 100 }]);
  });
});

it('a cancelled deployment offers nothing from the moment it is cancelled', async () => {
  const dep = await deploy({ build: builds['1.1.0'], percentage: 100, channel: 'cancel' });
  expect((await check('can-x', { channel: 'cancel' })).body.status).toBe('update_available');
  expect((await t.api.post(`/admin/v1/products/ro/deployments/${dep.deployment_id}/cancel`)).body.state).toBe('cancelled');
  expect((await check('can-x', { channel: 'cancel' })).body.status).toBe('no_update');
  expect((await t.api.post(`/admin/v1/products/ro/deployments/${dep.deployment_id}/resume`)).status).toBe(409);
  const listed = (await t.api.get('/admin/v1/products/ro/deployments?state=cancelled')).body.items.map((x: any) => x.deployment_id);
  expect(listed).toContain(dep.deployment_id);
});

it('a completed deployment offers nothing more and cannot be resumed', async () => {
  const dep = await deploy({ build: builds['1.1.0'], percentage: 100, channel: 'complete' });
  expect((await check('cmp-x', { channel: 'complete' })).body.status).toBe('update_available');
  expect((await t.api.post(`/admin/v1/products/ro/deployments/${dep.deployment_id}/complete`)).body.state).toBe('completed');
  expect((await t.api.post(`/admin/v1/products/ro/deployments/${dep.deployment_id}/complete`)).status).toBe(200);
  expect((await check('cmp-y', { channel: 'complete' })).body.status).toBe('no_update');
  expect((await t.api.post(`/admin/v1/products/ro/deployments/${dep.deployment_id}/resume`)).status).toBe(409);
});

describe('compatibility on firmware and targeting', () => {
  it('min_version: only devices already on it take the build', async () => {
    await deploy({ build: builds['2.0.0'], percentage: 100, channel: 'minv' });
    expect((await check('minv-1', { channel: 'minv', version: '1.1.0' })).body.status).toBe('no_update');
    expect((await check('minv-2', { channel: 'minv', version: '1.2.0' })).body.version).toBe('2.0.0');
  });

  it('required_step: devices below it are offered it before anything newer', async () => {
    await deploy({ build: builds['1.5.0'], percentage: 100, channel: 'step' });
    await deploy({ build: builds['2.0.0'], percentage: 100, channel: 'step' });
    expect((await check('step-1', { channel: 'step', version: '1.2.0' })).body.version).toBe('1.5.0');
    expect((await check('step-2', { channel: 'step', version: '1.5.0' })).body.version).toBe('2.0.0');
  });

  it('hardware revision range', async () => {
    await deploy({ build: builds['3.0.0'], percentage: 100, channel: 'hwrev' });
    expect((await check('rev-1', { channel: 'hwrev', hw: { revision: 1 } })).body.status).toBe('no_update');
    expect((await check('rev-2', { channel: 'hwrev', hw: { revision: '3' } })).body.version).toBe('3.0.0');
    expect((await check('rev-none', { channel: 'hwrev' })).body.status).toBe('no_update');
  });

  it('device groups', async () => {
    await deploy({ build: builds['1.1.0'], percentage: 100, channel: 'grp', groups: ['lab'] });
    await check('grp-1', { channel: 'grp' });
    expect((await check('grp-1', { channel: 'grp' })).body.status).toBe('no_update');
    const patched = await t.api.call('PATCH', '/admin/v1/products/ro/devices/grp-1', { groups: ['lab'], tags: { site: 'berlin' } });
    expect(patched.body).toMatchObject({ groups: ['lab'], tags: { site: 'berlin' } });
    expect((await check('grp-1', { channel: 'grp' })).body.status).toBe('update_available');
  });
});

it('a device quota answers over_limit (200) beyond it and registers nobody', async () => {
  await createProduct(t.api, 'quota', { chip: 'esp32', device_quota: 2 });
  const fw = await publishRelease(t.platform, {
    product: 'quota',
    version: '1.0.0',
    files: { 'fw.bin': buildEspImage({ version: '1.0.0' }) },
    manifest: { release: true },
  });
  const dep = (await t.api.post('/admin/v1/products/quota/deployments', { build: fw.build_number, percentage: 100 })).body;
  const q = (id: string) => t.api.post('/api/v1/ota/check/', { product: 'quota', device_id: id, version: '0.9.0' });
  expect((await q('q-1')).body.status).toBe('update_available');
  expect((await q('q-2')).body.status).toBe('update_available');
  const over = await q('q-3');
  expect(over.status).toBe(200);
  expect(over.body).toMatchObject({ status: 'over_limit', update_available: false });
  expect((await t.api.get('/admin/v1/products/quota/devices/q-3')).status).toBe(404);
  // Refused before anything was offered or counted.
  expect((await t.api.get(`/admin/v1/products/quota/deployments/${dep.deployment_id}`)).body.counts.offered).toBe(2);
  expect((await q('q-1')).body.status).toBe('update_available'); // known devices are unaffected
});

it('keeps a bounded status history per device', async () => {
  await check('hist-1');
  for (let i = 0; i < 45; i++) await report('hist-1', builds['1.1.0']!, i % 2 ? 'downloading' : 'installing');
  const d = (await t.api.get('/admin/v1/products/ro/devices/hist-1')).body;
  expect(d.history.length).toBeGreaterThan(0);
  expect(d.history.length).toBeLessThanOrEqual(20);
  const list = (await t.api.get('/admin/v1/products/ro/devices?prefix=hist-')).body;
  expect(list.items.map((x: any) => x.device_id)).toEqual(['hist-1']);
});
