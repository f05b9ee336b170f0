/**
 * Rollout truth per protocol, over real HTTP on the local platform: for each protocol, devices
 * that come back on the offered build count as `succeeded` (inferred where the protocol sends no
 * report), so a deployment with a timeout and 100 % success never pauses; a schedule promotes a
 * report-less FireFly fleet; and lookups that cannot lead to a download (IoTaaP `latest`, Bota
 * `releases/latest`, Cheeko `GET /toy/ota/`) change no rollout state.
 * (Arduino and the native report paths are in outcomes.test.ts.)
 */
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;
const builds: Record<string, number> = {};

const FF = { product_class: 'probe', product_hex: '0x00C0FFEE' };

async function release(
  product: string,
  version: string,
  fill: number,
  opts: { chip?: 'esp32' | 'esp32s3'; manifest?: Record<string, unknown>; name?: string } = {},
) {
  const image = buildEspImage({ chip: opts.chip ?? 'esp32', version, fill });
  const r = await publishRelease(t.platform, { product, version, files: { [opts.name ?? 'app.bin']: image }, manifest: { release: true, ...opts.manifest } });
  expect(r.status).toBe('accepted');
  builds[`${product}@${version}`] = r.build_number;
}

beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'pn');
  await createProduct(t.api, 'pff', { firmware_type: 'Probe', protocols: { firefly: FF } });
  await createProduct(t.api, 'pck', { chip: 'esp32s3', auto_register: true, protocols: { cheeko: { application: 'pck' } } });
  await createProduct(t.api, 'pbt');
  await createProduct(t.api, 'pio', { security_mode: 'device_token', protocols: { iotaap: true } });
  for (const [v, fill] of [
    ['1.0.0', 1],
    ['1.1.0', 2],
    ['1.2.0', 3],
  ] as const) {
    await release('pn', v, fill);
    await release('pff', v, fill + 10, { name: 'Probe.ino.bin', manifest: { firmware_type: 'Probe' } });
    await release('pck', v, fill + 20, { chip: 'esp32s3' });
    await release('pbt', v, fill + 30, { manifest: { boards: ['Bota Pin'] } });
    await release('pio', v, fill + 40);
  }
}, 120_000);
afterAll(async () => {
  await t?.platform.stop();
});

const deploy = async (product: string, body: Record<string, unknown>) => {
  const r = await t.api.post(`/admin/v1/products/${product}/deployments`, body);
  expect(r.status).toBe(201);
  return r.body;
};
const cancel = async (product: string, id: string) => expect((await t.api.post(`/admin/v1/products/${product}/deployments/${id}/cancel`, {})).status).toBe(200);
const getDeployment = async (product: string, id: string) => (await t.api.get(`/admin/v1/products/${product}/deployments/${id}`)).body;
const getDevice = (product: string, id: string) => t.api.get(`/admin/v1/products/${product}/devices/${encodeURIComponent(id)}`);
const minutesFrom = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000);

/** Download a signed URL the way a device does: every byte, then the connection closes. */
async function fetchAll(url: string) {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  await new Promise((r) => setTimeout(r, 150)); // the edge records a download once the response has finished
}

/** One protocol's device: asks for an update on `version`; says whether it was offered `offered` and returns its download URL. */
interface ProtocolDevice {
  checkIn(id: string, version: string): Promise<{ offeredVersion?: string; url?: string }>;
}

const native: ProtocolDevice = {
  async checkIn(id, version) {
    const r = await t.api.post('/api/v1/ota/check/', { product: 'pn', device_id: id, version });
    expect(r.status).toBe(200);
    return r.body.status === 'update_available' ? { offeredVersion: r.body.version, url: r.body.url } : {};
  },
};

const firefly: ProtocolDevice = {
  // esp32FOTA with useDeviceId(true): the efuse MAC as a decimal number.
  async checkIn(id, version) {
    const r = await t.api.get(`/ota/${FF.product_class}/${FF.product_hex}?current_version=${version}&id=${id}`);
    expect(r.status).toBe(200);
    const offered = r.body.version !== version && (r.body.url || r.body.bin) ? r.body.version : undefined;
    return offered ? { offeredVersion: offered, url: r.body.url ?? `http://${r.body.host}:${r.body.port}${r.body.bin}` } : {};
  },
};

const cheeko: ProtocolDevice = {
  async checkIn(id, version) {
    const r = await t.api.post('/toy/ota/', { version, board: 'esp32s3', application: 'pck' }, { 'Device-Id': id });
    expect(r.status).toBe(200);
    return r.body.firmware ? { offeredVersion: r.body.firmware.version, url: r.body.firmware.url } : {};
  },
};

const bota: ProtocolDevice = {
  async checkIn(id, version) {
    const r = await t.api.post(`/api/v1/devices/${encodeURIComponent(id)}/heartbeat`, { product: 'pbt', firmware_version: version, model: 'Bota Pin' });
    expect(r.status).toBe(200);
    return r.body.ota ? { offeredVersion: r.body.ota.version, url: r.body.ota.url } : {};
  },
};

describe('devices back on the offered build count as succeeded, for every protocol', () => {
  const cases: [string, string, ProtocolDevice, (i: number) => string, 'explicit' | 'inferred'][] = [
    ['native (check-in version, no report)', 'pn', native, (i) => `PN-OK-${i}`, 'inferred'],
    ['FireFly / esp32FOTA (current_version with id)', 'pff', firefly, (i) => String(0x246f28000000 + i), 'inferred'],
    ['Cheeko (the boot check’s version)', 'pck', cheeko, (i) => `AA:BB:CC:10:00:0${i}`, 'inferred'],
    ['Bota (heartbeat firmware_version)', 'pbt', bota, (i) => `pin-ok-${i}`, 'inferred'],
  ];

  it.each(cases)('expect %s: 100 %% success with a timeout never to pause, each device counted once', async (_name, product, device, idOf, kind) => {
    const dep = await deploy(product, { build: builds[`${product}@1.1.0`], percentage: 100, max_failures: 1, in_progress_timeout_minutes: 5 });
    const ids = [1, 2, 3].map(idOf);
    for (const id of ids) {
      const offer = await device.checkIn(id, '1.0.0');
      expect(offer.offeredVersion).toBe('1.1.0');
    }
    expect((await getDeployment(product, dep.deployment_id)).counts).toMatchObject({ offered: 3, in_flight: 3 });
    for (const id of ids) expect((await device.checkIn(id, '1.1.0')).offeredVersion).toBeUndefined();
    const d = await getDeployment(product, dep.deployment_id);
    expect(d.counts).toMatchObject({ offered: 3, succeeded: 3, failed: 0, timed_out: 0, in_flight: 0, [kind]: { succeeded: 3 } });
    await t.platform.sweep(minutesFrom(d.created_at, 60));
    const after = await getDeployment(product, dep.deployment_id);
    expect(after.state).toBe('active');
    expect(after.counts).toMatchObject({ succeeded: 3, timed_out: 0 });
    // Later check-ins on the build change nothing.
    for (const id of ids) await device.checkIn(id, '1.1.0');
    expect((await getDeployment(product, dep.deployment_id)).counts.succeeded).toBe(3);
    await cancel(product, dep.deployment_id);
  });

  it('expect a schedule to promote a report-less FireFly fleet through its gates', async () => {
    const dep = await deploy('pff', {
      build: builds['pff@1.2.0'],
      schedule: [
        { percentage: 50, soak_minutes: 10, min_success_rate: 0.9 },
        { percentage: 100, soak_minutes: 0, min_success_rate: 0 },
      ],
    });
    const ids = Array.from({ length: 40 }, (_, i) => String(0x30aea4000000 + i));
    const offered: string[] = [];
    for (const id of ids) if ((await firefly.checkIn(id, '1.1.0')).offeredVersion === '1.2.0') offered.push(id);
    expect(offered.length).toBeGreaterThan(5);
    expect(offered.length).toBeLessThan(ids.length);
    for (const id of offered) expect((await firefly.checkIn(id, '1.2.0')).offeredVersion).toBeUndefined();
    expect((await getDeployment('pff', dep.deployment_id)).counts).toMatchObject({ succeeded: offered.length, inferred: { succeeded: offered.length } });
    const summary = await t.platform.sweep(minutesFrom(dep.created_at, 11));
    expect(summary.promoted).toEqual([expect.objectContaining({ deploymentId: dep.deployment_id, percentage: 100 })]);
    // Now the rest of the fleet is offered the build.
    const rest = ids.filter((id) => !offered.includes(id));
    expect((await firefly.checkIn(rest[0], '1.1.0')).offeredVersion).toBe('1.2.0');
    await cancel('pff', dep.deployment_id);
  });

  it('expect a native device that downloaded and came back on its old version to be the only failure', async () => {
    const dep = await deploy('pn', { build: builds['pn@1.2.0'], percentage: 100, channel: 'mixed', max_failures: 5 });
    const ok = await t.api.post('/api/v1/ota/check/', { product: 'pn', device_id: 'PN-MIX-OK', version: '1.1.0', channel: 'mixed' });
    const bad = await t.api.post('/api/v1/ota/check/', { product: 'pn', device_id: 'PN-MIX-BAD', version: '1.1.0', channel: 'mixed' });
    await fetchAll(ok.body.url);
    await fetchAll(bad.body.url);
    await native.checkIn('PN-MIX-OK', '1.2.0');
    await native.checkIn('PN-MIX-BAD', '1.1.0');
    expect((await getDeployment('pn', dep.deployment_id)).counts).toMatchObject({
      downloaded: 2,
      succeeded: 1,
      failed: 1,
      inferred: { succeeded: 1, failed: 1 },
    });
    await cancel('pn', dep.deployment_id);
  });
});

describe('IoTaaP: a completed download followed by another call is the success it can prove', () => {
  const token = async (id: string) => (await t.api.post(`/admin/v1/products/pio/devices/${id}/token`)).body.token as string;
  const latest = (id: string) => t.api.get(`/v1/ota/device/latest/${id}`);
  const download = (id: string, tok: string) => t.api.get(`/v1/ota/device/download/${id}${tok}`);

  it('expect latest never to count an offer nor open an in-flight entry, and download + next call to count one inferred success', async () => {
    const dep = await deploy('pio', { build: builds['pio@1.1.0'], percentage: 100, in_progress_timeout_minutes: 5, max_failures: 1 });
    const id = '5e1b57800000000000000a01';
    const tok = await token(id);
    for (let i = 0; i < 5; i++) expect((await latest(id)).body).toEqual({ ver: '1.1.0' });
    let d = await getDeployment('pio', dep.deployment_id);
    expect(d.counts).toMatchObject({ offered: 0, in_flight: 0 });
    // Anyone who knows the id can call latest; the sweeper finds nothing to time out.
    await t.platform.sweep(minutesFrom(d.created_at, 60));
    expect((await getDeployment('pio', dep.deployment_id)).state).toBe('active');

    const r = await download(id, tok);
    expect(r.status).toBe(302);
    expect((await getDeployment('pio', dep.deployment_id)).counts).toMatchObject({ offered: 1, in_flight: 1 });
    await fetchAll(r.headers.get('location')!);
    expect((await latest(id)).status).toBe(200); // the device rebooted and asks again
    d = await getDeployment('pio', dep.deployment_id);
    expect(d.counts).toMatchObject({ offered: 1, downloaded: 1, succeeded: 1, in_flight: 0, inferred: { succeeded: 1 } });
    expect((await getDevice('pio', id)).body.last_offer).toMatchObject({ outcome: 'succeeded', inferred: true, reason: 'called_again_after_download' });
    await cancel('pio', dep.deployment_id);
  });

  it('expect a download that never completed followed by a call to settle nothing', async () => {
    const dep = await deploy('pio', { build: builds['pio@1.2.0'], percentage: 100 });
    const id = '5e1b57800000000000000a02';
    const tok = await token(id);
    expect((await download(id, tok)).status).toBe(302); // the redirect only: no bytes fetched
    await latest(id);
    expect((await getDeployment('pio', dep.deployment_id)).counts).toMatchObject({ offered: 1, succeeded: 0, in_flight: 1 });
    await cancel('pio', dep.deployment_id);
  });
});

describe('lookups change no rollout state', () => {
  it('expect Bota releases/latest and Cheeko GET /toy/ota/ to count nothing and register nobody', async () => {
    const bd = await deploy('pbt', { build: builds['pbt@1.2.0'], percentage: 100, in_progress_timeout_minutes: 5 });
    const cd = await deploy('pck', { build: builds['pck@1.2.0'], percentage: 100, in_progress_timeout_minutes: 5 });
    for (let i = 0; i < 5; i++) {
      const b = await t.api.get('/api/v1/products/pbt/releases/latest?current_version=1.0.0&model=Bota%20Pin');
      expect(b.body).toMatchObject({ update_available: true, version: '1.2.0' });
      const c = await t.api.get('/toy/ota/?application=pck&type=esp32s3');
      expect(c.body.data.latestVersions.esp32s3.version).toBe('1.2.0');
    }
    for (const [p, dep] of [
      ['pbt', bd],
      ['pck', cd],
    ] as const) {
      expect((await getDeployment(p, dep.deployment_id)).counts).toMatchObject({ offered: 0, in_flight: 0, succeeded: 0, failed: 0 });
    }
    const devices = (await t.api.get('/admin/v1/products/pck/devices')).body;
    const before = JSON.stringify(devices);
    await t.api.get('/toy/ota/?application=pck');
    expect(JSON.stringify((await t.api.get('/admin/v1/products/pck/devices')).body)).toBe(before);
    await cancel('pbt', bd.deployment_id);
    await cancel('pck', cd.deployment_id);
  });
});
