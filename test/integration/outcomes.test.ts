/**
 * Rollout truth over real HTTP on the local platform: devices that send no report are counted by
 * what they do (back on the new build → succeeded), a report counts only for the device's open
 * offer, each offer settles once however many contradictory reports arrive, and operator intent
 * (channels, failed builds, downgrades) wins over what a device says.
 */
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;
const builds: Record<string, number> = {};

beforeAll(async () => {
  t = await startTestPlatform();
  for (const product of ['oc', 'ard']) await createProduct(t.api, product, { chip: 'esp32' });
  for (const product of ['oc', 'ard']) {
    for (const [v, fill] of [
      ['1.0.0', 1],
      ['1.1.0', 2],
      ['1.2.0', 3],
    ] as const) {
      const r = await publishRelease(t.platform, {
        product,
        version: v,
        files: { 'fw.bin': buildEspImage({ version: v, fill }) },
        manifest: { release: true, app_version_check: false },
      });
      expect(r.status).toBe('accepted');
      builds[`${product}@${v}`] = r.build_number;
    }
  }
}, 60_000);
afterAll(async () => {
  await t?.platform.stop();
});

const check = (device_id: string, version: string, extra: Record<string, unknown> = {}) =>
  t.api.post('/api/v1/ota/check/', { product: 'oc', device_id, version, ...extra });
const report = (device_id: string, build_number: number, status: string) =>
  t.api.post('/api/v1/ota/status/', { product: 'oc', device_id, build_number, status });
const deploy = async (product: string, body: Record<string, unknown>) => {
  const r = await t.api.post(`/admin/v1/products/${product}/deployments`, body);
  expect(r.status).toBe(201);
  return r.body;
};
const getDeployment = async (product: string, id: string) => (await t.api.get(`/admin/v1/products/${product}/deployments/${id}`)).body;
const getDevice = async (product: string, id: string) => (await t.api.get(`/admin/v1/products/${product}/devices/${encodeURIComponent(id)}`)).body;
const minutesFrom = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000);
const arduino = (mac: string, version: string) =>
  fetch(`${t.platform.apiUrl}/api/v1/ota/arduino/ard`, {
    redirect: 'manual',
    headers: {
      'user-agent': 'ESP32-http-Update',
      'x-ESP32-STA-MAC': mac,
      'x-ESP32-free-space': '1966080',
      'x-ESP32-mode': 'sketch',
      'x-ESP32-version': version,
    },
  });

describe('report-less devices (Arduino HTTPUpdate)', () => {
  it('expect devices back on the new build to count as inferred successes, and a timeout never to pause a fully successful rollout', async () => {
    const dep = await deploy('ard', { build: builds['ard@1.1.0'], percentage: 100, channel: 'stable', max_failures: 2, in_progress_timeout_minutes: 5 });
    const macs = ['24:6F:28:00:A0:01', '24:6F:28:00:A0:02', '24:6F:28:00:A0:03'];
    for (const mac of macs) expect((await arduino(mac, '1.0.0')).status).toBe(302);
    // Each device flashes the image and reboots; HTTPUpdate then asks again with the new version.
    for (const mac of macs) expect((await arduino(mac, '1.1.0')).status).toBe(304);
    const d = await getDeployment('ard', dep.deployment_id);
    expect(d.counts).toMatchObject({
      offered: 3,
      succeeded: 3,
      failed: 0,
      timed_out: 0,
      in_flight: 0,
      inferred: { succeeded: 3, failed: 0 },
      explicit: { succeeded: 0 },
    });
    // Long after the timeout the sweeper finds nothing in flight: the rollout stays active.
    await t.platform.sweep(minutesFrom(d.created_at, 60));
    const after = await getDeployment('ard', dep.deployment_id);
    expect(after.state).toBe('active');
    expect(after.counts.timed_out).toBe(0);
    // Later check-ins on the same build change nothing.
    for (const mac of macs) await arduino(mac, '1.1.0');
    expect((await getDeployment('ard', dep.deployment_id)).counts.succeeded).toBe(3);
    const device = await getDevice('ard', macs[0]);
    expect(device.last_offer).toMatchObject({ outcome: 'succeeded', inferred: true, reason: 'checked_in_on_offered_build' });
    expect(device.history.at(-1)).toMatchObject({ status: 'success', inferred: true });
    expect((await t.api.post(`/admin/v1/products/ard/deployments/${dep.deployment_id}/cancel`, {})).status).toBe(200);
  });

  it('expect a schedule to promote a report-less fleet through its gates', async () => {
    const dep = await deploy('ard', {
      build: builds['ard@1.2.0'],
      channel: 'stable',
      schedule: [
        { percentage: 50, soak_minutes: 10, min_success_rate: 0.9 },
        { percentage: 100, soak_minutes: 0, min_success_rate: 0 },
      ],
    });
    const macs = Array.from({ length: 40 }, (_, i) => `24:6F:28:00:B1:${i.toString(16).padStart(2, '0').toUpperCase()}`);
    const offered: string[] = [];
    for (const mac of macs) if ((await arduino(mac, '1.1.0')).status === 302) offered.push(mac);
    expect(offered.length).toBeGreaterThan(5);
    for (const mac of offered) expect((await arduino(mac, '1.2.0')).status).toBe(304);
    const summary = await t.platform.sweep(minutesFrom(dep.created_at, 11));
    expect(summary.promoted).toEqual([expect.objectContaining({ deploymentId: dep.deployment_id, percentage: 100 })]);
    expect((await t.api.post(`/admin/v1/products/ard/deployments/${dep.deployment_id}/cancel`, {})).status).toBe(200);
  });
});

describe('reports count only for an open offer, once', () => {
  let depId: string;
  beforeAll(async () => {
    depId = (await deploy('oc', { build: builds['oc@1.1.0'], percentage: 100, channel: 'stable' })).deployment_id;
  });

  it('expect a report from a device never offered the build to change no counter', async () => {
    expect((await check('OC-NEVER', '1.1.0')).body.status).toBe('no_update');
    const r = await report('OC-NEVER', builds['oc@1.1.0'], 'failed');
    expect(r.body).toMatchObject({ ok: true, result: 'recorded', counted: false });
    const d = await getDeployment('oc', depId);
    expect(d.counts).toMatchObject({ failed: 0, succeeded: 0 });
  });

  it('expect 200 contradictory reports to settle the offer once: the first terminal fact wins', async () => {
    expect((await check('OC-FLIP', '1.0.0')).body.status).toBe('update_available');
    const before = await getDeployment('oc', depId);
    const statuses = ['success', 'failed', 'rolled_back'];
    await Promise.all(Array.from({ length: 200 }, (_, i) => report('OC-FLIP', builds['oc@1.1.0'], statuses[i % 3])));
    const after = await getDeployment('oc', depId);
    const settled = (c: any) => c.succeeded + c.failed + c.rolled_back + c.timed_out;
    expect(settled(after.counts) - settled(before.counts)).toBe(1);
    const device = await getDevice('oc', 'OC-FLIP');
    expect(device.last_offer.outcome).not.toBeNull();
  });

  it('expect an explicit success followed by a check-in on the new build to count once, as explicit', async () => {
    const id = 'OC-EXPLICIT';
    expect((await check(id, '1.0.0')).body.status).toBe('update_available');
    const before = (await getDeployment('oc', depId)).counts;
    expect((await report(id, builds['oc@1.1.0'], 'success')).body.counted).toBe(true);
    await check(id, '1.1.0');
    const after = (await getDeployment('oc', depId)).counts;
    expect(after.succeeded - before.succeeded).toBe(1);
    expect(after.explicit.succeeded - before.explicit.succeeded).toBe(1);
    expect(after.inferred.succeeded).toBe(before.inferred.succeeded);
  });
});

describe('downloads as evidence (the local edge)', () => {
  it('expect a device that downloaded the whole image and came back on its old version to count as an inferred failure, never re-offered', async () => {
    const dep = await deploy('oc', { build: builds['oc@1.2.0'], percentage: 100, channel: 'dl' });
    const id = 'OC-DL-1';
    const offer = await check(id, '1.1.0', { channel: 'dl' });
    expect(offer.body.status).toBe('update_available');
    expect(new URL(offer.body.url).searchParams.get('d')).toBe(id); // the signed URL names its device
    // Back on the old version before downloading proves nothing.
    expect((await check(id, '1.1.0')).body.status).toBe('update_available');
    expect((await getDeployment('oc', dep.deployment_id)).counts.failed).toBe(0);
    const res = await fetch(offer.body.url);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 200)); // the edge records after the response closed
    let d = await getDeployment('oc', dep.deployment_id);
    expect(d.counts.downloaded).toBe(1);
    expect((await getDevice('oc', id)).last_offer.downloaded_at).not.toBeNull();
    const after = await check(id, '1.1.0');
    expect(after.body.status).toBe('no_update');
    d = await getDeployment('oc', dep.deployment_id);
    expect(d.counts).toMatchObject({ failed: 1, inferred: { failed: 1 }, explicit: { failed: 0 } });
    const device = await getDevice('oc', id);
    expect(device.failed_builds).toContain(builds['oc@1.2.0']);
    expect(device.last_offer).toMatchObject({ outcome: 'failed', inferred: true, reason: 'returned_on_old_version' });
    expect((await t.api.post(`/admin/v1/products/oc/deployments/${dep.deployment_id}/cancel`, {})).status).toBe(200);
  });

  it('expect a device whose URL was tampered with to get 403 and no download recorded', async () => {
    const dep = await deploy('oc', { build: builds['oc@1.2.0'], percentage: 100, channel: 'dl2' });
    const offer = await check('OC-DL-2', '1.1.0', { channel: 'dl2' });
    const forged = offer.body.url.replace('d=OC-DL-2', 'd=OC-DL-X');
    expect((await fetch(forged)).status).toBe(403);
    expect((await getDeployment('oc', dep.deployment_id)).counts.downloaded).toBe(0);
    expect((await t.api.post(`/admin/v1/products/oc/deployments/${dep.deployment_id}/cancel`, {})).status).toBe(200);
  });
});

describe('operator intent wins', () => {
  it('expect the channel an operator set to win over the one a device sends', async () => {
    const beta = await deploy('oc', { build: builds['oc@1.2.0'], percentage: 100, channel: 'beta' });
    expect((await check('OC-CH', '1.0.0', { channel: 'beta' })).body.status).toBe('update_available'); // a new device starts where it says
    expect((await t.api.patch('/admin/v1/products/oc/devices/OC-CH', { channel: 'stable' })).status).toBe(200);
    const r = await check('OC-CH', '1.0.0', { channel: 'beta' });
    expect(r.body.build_number).not.toBe(builds['oc@1.2.0']);
    expect((await getDevice('oc', 'OC-CH')).channel).toBe('stable');
    expect((await t.api.post(`/admin/v1/products/oc/deployments/${beta.deployment_id}/cancel`, {})).status).toBe(200);
  });

  it('expect assigning a failed build to answer 409 until the operator says retry, and retry to clear it', async () => {
    const id = 'OC-RETRY';
    await check(id, '1.0.0');
    await report(id, builds['oc@1.2.0'], 'failed');
    expect((await getDevice('oc', id)).failed_builds).toContain(builds['oc@1.2.0']);
    const refused = await t.api.put(`/admin/v1/products/oc/devices/${id}/assignment`, { build: builds['oc@1.2.0'] });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('build_failed_before');
    const retried = await t.api.put(`/admin/v1/products/oc/devices/${id}/assignment`, { build: builds['oc@1.2.0'], retry: true });
    expect(retried.status).toBe(201);
    const device = await getDevice('oc', id);
    expect(device.failed_builds).not.toContain(builds['oc@1.2.0']);
    expect(device.history.at(-1)).toMatchObject({ status: 'failed_build_cleared', build_number: builds['oc@1.2.0'] });
    expect((await check(id, '1.0.0')).body.build_number).toBe(builds['oc@1.2.0']);
  });

  it('expect an assignment never to downgrade a device unless allow_downgrade', async () => {
    const id = 'OC-DOWN';
    await check(id, '1.2.0');
    const refused = await t.api.put(`/admin/v1/products/oc/devices/${id}/assignment`, { build: builds['oc@1.0.0'] });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('downgrade');
    expect((await t.api.put(`/admin/v1/products/oc/devices/${id}/assignment`, { build: builds['oc@1.0.0'], allow_downgrade: true })).status).toBe(201);
  });

  it('expect an operator to clear failed builds on their own', async () => {
    const id = 'OC-CLEAR';
    await check(id, '1.0.0');
    await report(id, builds['oc@1.1.0'], 'failed');
    await report(id, builds['oc@1.2.0'], 'rolled_back');
    const one = await t.api.delete(`/admin/v1/products/oc/devices/${id}/failed-builds?build=${builds['oc@1.1.0']}`);
    expect(one.status).toBe(200);
    expect(one.body.failed_builds).toEqual([builds['oc@1.2.0']]);
    const all = await t.api.delete(`/admin/v1/products/oc/devices/${id}/failed-builds`);
    expect(all.body.failed_builds).toEqual([]);
  });
});
