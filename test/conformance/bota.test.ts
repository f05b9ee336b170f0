/**
 * Conformance: Bota (seed /work/shared/seeds/001_99c31bd1cf6040a3.txt), over real HTTP against
 * the local platform.
 *
 * - HTTP OTA: an operator assigns a released build to one device (one active assignment per
 *   device); the device's next heartbeat carries the OTA manifest (presigned `.bin` URL + CRC32);
 *   the assignment moves pending → delivered → applied / failed.
 * - Bluetooth OTA: the phone app asks whether a released firmware newer than the device's exists
 *   for its model and gets the `.ufw` (and `.bin`) to download; no assignment needed.
 * - Hardware-safe: malformed input → 400 JSON and nothing written; business outcomes → 200.
 */
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { buildEspImage } from '../fixtures/esp-image';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

let t: TestPlatform;

/** Bytes of every published file, by `<product>/<version>/<name>`, to compare downloads against. */
const published = new Map<string, Buffer>();
/** Build number of every published version, by `<product>/<version>`. */
const builds = new Map<string, number>();

async function release(product: string, version: string, opts: { boards?: string[]; release?: boolean; ufw?: boolean; fill: number; notes?: string }) {
  const files: Record<string, Buffer> = { 'fw.bin': buildEspImage({ chip: 'esp32', version, fill: opts.fill }) };
  if (opts.ufw !== false) files['pin.ufw'] = Buffer.from(`UFW package ${product} ${version} `.repeat(200 + opts.fill));
  const r = await publishRelease(t.platform, {
    product,
    version,
    files,
    manifest: {
      ...(opts.release === false ? {} : { release: true }),
      ...(opts.boards ? { boards: opts.boards } : {}),
      ...(opts.notes ? { notes: opts.notes } : {}),
    },
  });
  expect(r.status).toBe('accepted');
  for (const [name, bytes] of Object.entries(files)) published.set(`${product}/${version}/${name}`, bytes);
  builds.set(`${product}/${version}`, r.build_number);
  return r.build_number as number;
}
const build = (product: string, version: string) => builds.get(`${product}/${version}`)!;

beforeAll(async () => {
  t = await startTestPlatform();
  // HTTP OTA: assignments. Heartbeats every 60 s (the seed's "within 60 seconds").
  await createProduct(t.api, 'bota', { poll_interval_s: 60 });
  await release('bota', 'v1.0.0', { boards: ['Bota Pin'], fill: 1 });
  await release('bota', 'v1.0.1', { boards: ['Bota Pin'], fill: 2 });
  await release('bota', 'v1.1.0', { boards: ['Bota Pin'], fill: 3 });
  await release('bota', 'v1.2.0', { boards: ['Bota Pin'], fill: 4, release: false }); // DRAFT

  // Assignment vs deployment precedence (a deployment at 100 % reaches every device of the product).
  await createProduct(t.api, 'bota-dep');
  await release('bota-dep', 'v1.0.1', { boards: ['Bota Pin'], fill: 11 });
  await release('bota-dep', 'v2.0.0', { boards: ['Bota Pin'], fill: 12 });
  await createProduct(t.api, 'bota-dep2');
  await release('bota-dep2', 'v1.0.1', { boards: ['Bota Pin'], fill: 13 });
  await release('bota-dep2', 'v2.0.0', { boards: ['Bota Pin'], fill: 14 });

  // Bluetooth OTA: releases/latest per model.
  await createProduct(t.api, 'bota-app');
  await release('bota-app', 'v1.0.0', { boards: ['Bota Pin', 'Bota Pin Pro'], fill: 21 });
  await release('bota-app', 'v1.1.0', { boards: ['Bota Pin', 'Bota Pin Pro'], fill: 22, notes: 'Longer recordings' });
  await release('bota-app', 'v1.3.0', { boards: ['Bota Pin'], fill: 23, release: false }); // DRAFT: never offered
  await release('bota-app', 'v2.0.0', { boards: ['Bota Note'], fill: 24 });
  await release('bota-app', 'v2.1.0', { boards: ['Bota Note'], fill: 25, ufw: false }); // .bin only
  await release('bota-app', 'v3.0.0', { boards: ['Bota Pin Pro'], fill: 26 }); // revoked below

  // A product whose devices need the product key (hardware-safe rule: a failing credential writes nothing).
  await createProduct(t.api, 'bota-key', { security_mode: 'product_key' });
  await release('bota-key', 'v1.0.1', { boards: ['Bota Pin'], fill: 31 });
}, 120_000);
afterAll(async () => {
  await t?.platform.stop();
});

const heartbeat = (deviceId: string, body: unknown, headers?: Record<string, string>) =>
  t.api.post(`/api/v1/devices/${encodeURIComponent(deviceId)}/heartbeat`, body, headers);
const devicePath = (p: string, d: string) => `/admin/v1/products/${p}/devices/${encodeURIComponent(d)}`;
const getDevice = (p: string, d: string) => t.api.get(devicePath(p, d));
const assign = (p: string, d: string, body: unknown) => t.api.put(`${devicePath(p, d)}/assignment`, body);
const getAssignment = (p: string, d: string) => t.api.get(`${devicePath(p, d)}/assignment`);
const latest = (p: string, query: string) => t.api.get(`/api/v1/products/${p}/releases/latest${query}`);
const download = async (url: string) => {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  return Buffer.from(await r.arrayBuffer());
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const crc32Hex = (b: Buffer) => zlibCrc32(b).toString(16).padStart(8, '0');

/** A device that has checked in once (so it exists) running `version`. */
async function onlineDevice(p: string, d: string, version: string, model = 'Bota Pin') {
  const r = await heartbeat(d, { product: p, firmware_version: version, model });
  expect(r.status).toBe(200);
  return r;
}

describe('HTTP OTA — Step 2: assign to a device', () => {
  it('assigning a released firmware to a device creates a pending assignment', async () => {
    await onlineDevice('bota', 'pin-assign-1', 'v1.0.0');
    const r = await assign('bota', 'pin-assign-1', { build: build('bota', 'v1.0.1') });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ build_number: build('bota', 'v1.0.1'), version: 'v1.0.1', state: 'pending' });
    expect(typeof r.body.assignment_id).toBe('string');

    const a = await getAssignment('bota', 'pin-assign-1');
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ assignment_id: r.body.assignment_id, state: 'pending' });
    expect((await getDevice('bota', 'pin-assign-1')).body.assignment).toMatchObject({ assignment_id: r.body.assignment_id, state: 'pending' });
  });

  it('an assignment can be made before the device has ever checked in; it is pending until the device does', async () => {
    const r = await assign('bota', 'pin-assign-new', { build: build('bota', 'v1.0.1') });
    expect(r.status).toBe(201);
    expect(r.body.state).toBe('pending');
    const hb = await heartbeat('pin-assign-new', { product: 'bota', firmware_version: 'v1.0.0', model: 'Bota Pin' });
    expect(hb.body.ota).toMatchObject({ version: 'v1.0.1', assignment_id: r.body.assignment_id });
    expect((await getAssignment('bota', 'pin-assign-new')).body.state).toBe('delivered');
  });

  it('only a released firmware can be assigned: a DRAFT build → 409, nothing assigned', async () => {
    await onlineDevice('bota', 'pin-draft', 'v1.0.0');
    const r = await assign('bota', 'pin-draft', { build: build('bota', 'v1.2.0') });
    expect(r.status).toBe(409);
    expect(r.body.error).toBeDefined();
    expect((await getAssignment('bota', 'pin-draft')).status).toBe(404);
    expect((await getDevice('bota', 'pin-draft')).body.assignment).toBeNull();
    expect((await heartbeat('pin-draft', { product: 'bota', firmware_version: 'v1.0.0' })).body.ota).toBeNull();
  });

  it('assigning a build that does not exist → 404', async () => {
    const r = await assign('bota', 'pin-draft', { build: 9999 });
    expect(r.status).toBe(404);
  });

  it('one active assignment: a second assignment while one is pending → 409 assignment_pending', async () => {
    await onlineDevice('bota', 'pin-one', 'v1.0.0');
    const first = await assign('bota', 'pin-one', { build: build('bota', 'v1.0.1') });
    expect(first.status).toBe(201);
    const second = await assign('bota', 'pin-one', { build: build('bota', 'v1.1.0') });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('assignment_pending');
    expect((await getAssignment('bota', 'pin-one')).body).toMatchObject({
      assignment_id: first.body.assignment_id,
      build_number: build('bota', 'v1.0.1'),
      state: 'pending',
    });
  });

  it('one active assignment: a delivered (not yet applied) assignment also blocks a second one → 409', async () => {
    await onlineDevice('bota', 'pin-one-d', 'v1.0.0');
    expect((await assign('bota', 'pin-one-d', { build: build('bota', 'v1.0.1') })).status).toBe(201);
    await heartbeat('pin-one-d', { product: 'bota', firmware_version: 'v1.0.0' });
    expect((await getAssignment('bota', 'pin-one-d')).body.state).toBe('delivered');
    const second = await assign('bota', 'pin-one-d', { build: build('bota', 'v1.1.0') });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('assignment_pending');
  });

  it('replace: true replaces the open assignment; the next heartbeat carries the new build', async () => {
    await onlineDevice('bota', 'pin-replace', 'v1.0.0');
    const first = await assign('bota', 'pin-replace', { build: build('bota', 'v1.0.1') });
    const second = await assign('bota', 'pin-replace', { build: build('bota', 'v1.1.0'), replace: true });
    expect([200, 201]).toContain(second.status);
    expect(second.body).toMatchObject({ build_number: build('bota', 'v1.1.0'), state: 'pending' });
    expect(second.body.assignment_id).not.toBe(first.body.assignment_id);
    const hb = await heartbeat('pin-replace', { product: 'bota', firmware_version: 'v1.0.0' });
    expect(hb.body.ota).toMatchObject({ version: 'v1.1.0', build_number: build('bota', 'v1.1.0'), assignment_id: second.body.assignment_id });
  });

  it('DELETE cancels an open assignment: the next heartbeat carries no manifest, and a new one can be made', async () => {
    await onlineDevice('bota', 'pin-cancel', 'v1.0.0');
    expect((await assign('bota', 'pin-cancel', { build: build('bota', 'v1.0.1') })).status).toBe(201);
    const del = await t.api.call('DELETE', `${devicePath('bota', 'pin-cancel')}/assignment`);
    expect(del.status).toBe(200);
    const hb = await heartbeat('pin-cancel', { product: 'bota', firmware_version: 'v1.0.0' });
    expect(hb.body).toMatchObject({ ok: true, ota: null });
    expect((await t.api.call('DELETE', `${devicePath('bota', 'pin-cancel')}/assignment`)).status).toBe(404);
    expect((await assign('bota', 'pin-cancel', { build: build('bota', 'v1.1.0') })).status).toBe(201);
  });

  it('a new assignment can be made once the previous one is applied', async () => {
    await onlineDevice('bota', 'pin-next', 'v1.0.0');
    await assign('bota', 'pin-next', { build: build('bota', 'v1.0.1') });
    await heartbeat('pin-next', { product: 'bota', firmware_version: 'v1.0.0' });
    await heartbeat('pin-next', { product: 'bota', firmware_version: 'v1.0.1' });
    expect((await getAssignment('bota', 'pin-next')).body.state).toBe('applied');
    const r = await assign('bota', 'pin-next', { build: build('bota', 'v1.1.0') });
    expect(r.status).toBe(201);
    expect(r.body.state).toBe('pending');
  });
});

describe('HTTP OTA — heartbeat', () => {
  it('a heartbeat answers 200 { ok, status, server_time, next_heartbeat_s, ota: null } when nothing is assigned', async () => {
    const before = Date.now();
    const r = await heartbeat('pin-hb-1', { product: 'bota', firmware_version: 'v1.0.0', model: 'Bota Pin' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.body).toMatchObject({ ok: true, ota: null });
    expect(typeof r.body.status).toBe('string');
    expect(Math.abs(Date.parse(r.body.server_time) - before)).toBeLessThan(60_000);
    expect(Number.isInteger(r.body.next_heartbeat_s)).toBe(true);
    expect(r.body.next_heartbeat_s).toBeGreaterThan(0);
  });

  it('the device reports its firmware version in every heartbeat: the device record follows it', async () => {
    await heartbeat('pin-hb-2', { product: 'bota', firmware_version: 'v1.0.0', model: 'Bota Pin' });
    expect((await getDevice('bota', 'pin-hb-2')).body).toMatchObject({ device_id: 'pin-hb-2', current_version: 'v1.0.0', board: 'Bota Pin' });
    await heartbeat('pin-hb-2', { product: 'bota', firmware_version: 'v1.0.1', model: 'Bota Pin' });
    expect((await getDevice('bota', 'pin-hb-2')).body.current_version).toBe('v1.0.1');
  });

  it('heartbeat delay: with a 60 s heartbeat the device is told to come back within 2 minutes', async () => {
    const r = await heartbeat('pin-hb-3', { product: 'bota', firmware_version: 'v1.0.0' });
    expect(r.body.next_heartbeat_s).toBeGreaterThan(0);
    expect(r.body.next_heartbeat_s).toBeLessThanOrEqual(120);
  });

  it('pending → delivered: the next heartbeat carries the OTA manifest { version, build_number, url, size, crc32, sha256, assignment_id }', async () => {
    await onlineDevice('bota', 'pin-deliver', 'v1.0.0');
    const a = (await assign('bota', 'pin-deliver', { build: build('bota', 'v1.0.1') })).body;
    const r = await heartbeat('pin-deliver', { product: 'bota', firmware_version: 'v1.0.0', model: 'Bota Pin' });
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    const bin = published.get('bota/v1.0.1/fw.bin')!;
    expect(r.body.ota).toEqual({
      version: 'v1.0.1',
      build_number: build('bota', 'v1.0.1'),
      url: expect.stringMatching(/^https?:\/\//),
      size: bin.length,
      crc32: crc32Hex(bin),
      sha256: sha256(bin),
      assignment_id: a.assignment_id,
    });
    expect((await getAssignment('bota', 'pin-deliver')).body.state).toBe('delivered');
    expect((await getDevice('bota', 'pin-deliver')).body.assignment.state).toBe('delivered');
  });

  it('the manifest URL is a presigned download of the exact .bin bytes; crc32 is 8 hex digits matching them', async () => {
    await onlineDevice('bota', 'pin-download', 'v1.0.0');
    await assign('bota', 'pin-download', { build: build('bota', 'v1.1.0') });
    const { ota } = (await heartbeat('pin-download', { product: 'bota', firmware_version: 'v1.0.0' })).body;
    expect(ota.url.startsWith(t.platform.cdnUrl)).toBe(true);
    const bytes = await download(ota.url);
    expect(bytes.equals(published.get('bota/v1.1.0/fw.bin')!)).toBe(true);
    expect(ota.crc32).toMatch(/^[0-9a-fA-F]{8}$/);
    expect(ota.crc32.toLowerCase()).toBe(crc32Hex(bytes));
    expect(ota.sha256).toBe(sha256(bytes));
    expect(ota.size).toBe(bytes.length);
    // The device downloads the HTTP OTA binary, never the Bluetooth package.
    expect(bytes.equals(published.get('bota/v1.1.0/pin.ufw')!)).toBe(false);
    // Presigned: a tampered signature is refused.
    expect((await fetch(ota.url.replace(/Signature=[^&]+/, 'Signature=AAAA'))).status).toBe(403);
  });

  it('HTTP OTA retries automatically: while delivered (downloading / installing) each heartbeat still carries the manifest', async () => {
    await onlineDevice('bota', 'pin-retry', 'v1.0.0');
    const a = (await assign('bota', 'pin-retry', { build: build('bota', 'v1.0.1') })).body;
    const first = await heartbeat('pin-retry', { product: 'bota', firmware_version: 'v1.0.0' });
    expect(first.body.ota.assignment_id).toBe(a.assignment_id);
    for (const ota_status of ['downloading', 'installing', undefined]) {
      const r = await heartbeat('pin-retry', { product: 'bota', firmware_version: 'v1.0.0', ...(ota_status ? { ota_status } : {}) });
      expect(r.status).toBe(200);
      expect(r.body.ota).toMatchObject({ version: 'v1.0.1', assignment_id: a.assignment_id, sha256: first.body.ota.sha256 });
      expect((await getAssignment('bota', 'pin-retry')).body.state).toBe('delivered');
    }
  });

  it('delivered → applied: a heartbeat reporting the assigned version marks it applied and carries no manifest', async () => {
    await onlineDevice('bota', 'pin-apply', 'v1.0.0');
    await assign('bota', 'pin-apply', { build: build('bota', 'v1.0.1') });
    expect((await heartbeat('pin-apply', { product: 'bota', firmware_version: 'v1.0.0' })).body.ota).not.toBeNull();
    const r = await heartbeat('pin-apply', { product: 'bota', firmware_version: 'v1.0.1', model: 'Bota Pin' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, ota: null });
    expect((await getAssignment('bota', 'pin-apply')).body.state).toBe('applied');
    expect((await getDevice('bota', 'pin-apply')).body).toMatchObject({ current_version: 'v1.0.1', assignment: { state: 'applied' } });
    // And it stays applied: later heartbeats change nothing.
    expect((await heartbeat('pin-apply', { product: 'bota', firmware_version: 'v1.0.1' })).body.ota).toBeNull();
    expect((await getAssignment('bota', 'pin-apply')).body.state).toBe('applied');
  });

  it('pending → applied: a device already running the assigned version is not sent the manifest', async () => {
    await onlineDevice('bota', 'pin-already', 'v1.0.1');
    await assign('bota', 'pin-already', { build: build('bota', 'v1.0.1') });
    const r = await heartbeat('pin-already', { product: 'bota', firmware_version: 'v1.0.1' });
    expect(r.body.ota).toBeNull();
    expect((await getAssignment('bota', 'pin-already')).body.state).toBe('applied');
  });

  // Versions compare by meaning: a device reporting "1.0.1" after installing "v1.0.1" has applied it.
  it('applied when the reported version matches the assigned one spelled without the leading "v"', async () => {
    await onlineDevice('bota', 'pin-vprefix', 'v1.0.0');
    await assign('bota', 'pin-vprefix', { build: build('bota', 'v1.0.1') });
    await heartbeat('pin-vprefix', { product: 'bota', firmware_version: 'v1.0.0' });
    const r = await heartbeat('pin-vprefix', { product: 'bota', firmware_version: '1.0.1' });
    expect(r.body.ota).toBeNull();
    expect((await getAssignment('bota', 'pin-vprefix')).body.state).toBe('applied');
  });

  it('failed: a heartbeat with ota_status failed marks the assignment failed, and that build is never offered again', async () => {
    await onlineDevice('bota', 'pin-fail', 'v1.0.0');
    const a = (await assign('bota', 'pin-fail', { build: build('bota', 'v1.0.1') })).body;
    expect((await heartbeat('pin-fail', { product: 'bota', firmware_version: 'v1.0.0' })).body.ota.assignment_id).toBe(a.assignment_id);
    const r = await heartbeat('pin-fail', { product: 'bota', firmware_version: 'v1.0.0', ota_status: 'failed', ota_error: 'CRC32 mismatch after 10 retries' });
    expect(r.status).toBe(200);
    expect(r.body.ota).toBeNull();
    expect((await getAssignment('bota', 'pin-fail')).body.state).toBe('failed');
    const dev = (await getDevice('bota', 'pin-fail')).body;
    expect(dev.failed_builds).toContain(build('bota', 'v1.0.1'));
    expect(dev.last_status).toMatchObject({ status: 'failed', message: 'CRC32 mismatch after 10 retries' });
    // Never again: not on later heartbeats, and an operator assigning it anew is refused (409) unless they say retry.
    expect((await heartbeat('pin-fail', { product: 'bota', firmware_version: 'v1.0.0' })).body.ota).toBeNull();
    const again = await assign('bota', 'pin-fail', { build: build('bota', 'v1.0.1') });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('build_failed_before');
    expect((await heartbeat('pin-fail', { product: 'bota', firmware_version: 'v1.0.0' })).body.ota).toBeNull();
    // Another build can still be delivered to it.
    const other = (await assign('bota', 'pin-fail', { build: build('bota', 'v1.1.0'), replace: true })).body;
    expect((await heartbeat('pin-fail', { product: 'bota', firmware_version: 'v1.0.0' })).body.ota).toMatchObject({
      version: 'v1.1.0',
      assignment_id: other.assignment_id,
    });
  });

  it('failed before delivery: a failure report without an assignment or offer writes no failed build', async () => {
    await onlineDevice('bota', 'pin-fail-none', 'v1.0.0');
    const r = await heartbeat('pin-fail-none', { product: 'bota', firmware_version: 'v1.0.0', ota_status: 'failed' });
    expect(r.status).toBe(200);
    expect(r.body.ota).toBeNull();
    expect((await getDevice('bota', 'pin-fail-none')).body.failed_builds).toEqual([]);
  });

  it('an assignment takes precedence over deployments: a deployment of a newer build at 100 % does not win', async () => {
    const dep = await t.api.post('/admin/v1/products/bota-dep/deployments', { build: build('bota-dep', 'v2.0.0'), percentage: 100 });
    expect(dep.status).toBe(201);
    // Without an assignment the deployment reaches the device…
    expect((await heartbeat('pin-dep-free', { product: 'bota-dep', firmware_version: 'v1.0.0' })).body.ota).toMatchObject({ version: 'v2.0.0' });
    // …with one, the assigned build does.
    await onlineDevice('bota-dep', 'pin-dep', 'v1.0.0');
    const a = (await assign('bota-dep', 'pin-dep', { build: build('bota-dep', 'v1.0.1') })).body;
    const r = await heartbeat('pin-dep', { product: 'bota-dep', firmware_version: 'v1.0.0' });
    expect(r.body.ota).toMatchObject({ version: 'v1.0.1', build_number: build('bota-dep', 'v1.0.1'), assignment_id: a.assignment_id });
    expect((await heartbeat('pin-dep', { product: 'bota-dep', firmware_version: 'v1.0.0', ota_status: 'downloading' })).body.ota.version).toBe('v1.0.1');
    // Once applied the assignment no longer holds the device back.
    const applied = await heartbeat('pin-dep', { product: 'bota-dep', firmware_version: 'v1.0.1' });
    expect((await getAssignment('bota-dep', 'pin-dep')).body.state).toBe('applied');
    expect(applied.body.ota).toMatchObject({ version: 'v2.0.0' });
    expect(applied.body.ota.assignment_id).toBeUndefined();
    await t.api.post(`/admin/v1/products/bota-dep/deployments/${dep.body.deployment_id}/pause`);
  });
});

describe('HTTP OTA — failure attribution', () => {
  it('a failure reported after an assignment was applied fails the build last sent (a deployment’s), not the applied one', async () => {
    await onlineDevice('bota-dep2', 'pin-after', 'v1.0.0');
    await assign('bota-dep2', 'pin-after', { build: build('bota-dep2', 'v1.0.1') });
    await heartbeat('pin-after', { product: 'bota-dep2', firmware_version: 'v1.0.0' });
    await heartbeat('pin-after', { product: 'bota-dep2', firmware_version: 'v1.0.1' });
    expect((await getAssignment('bota-dep2', 'pin-after')).body.state).toBe('applied');

    const dep = (await t.api.post('/admin/v1/products/bota-dep2/deployments', { build: build('bota-dep2', 'v2.0.0'), percentage: 100 })).body;
    expect((await heartbeat('pin-after', { product: 'bota-dep2', firmware_version: 'v1.0.1' })).body.ota).toMatchObject({ version: 'v2.0.0' });
    const r = await heartbeat('pin-after', { product: 'bota-dep2', firmware_version: 'v1.0.1', ota_status: 'failed', ota_error: 'flash write failed' });
    expect(r.status).toBe(200);
    expect(r.body.ota).toBeNull(); // the failed build is not handed out again, not even in this response

    const dev = (await getDevice('bota-dep2', 'pin-after')).body;
    expect(dev.failed_builds).toEqual([build('bota-dep2', 'v2.0.0')]);
    expect(dev.assignment.state).toBe('applied'); // the applied assignment is history, it does not fail
    expect((await t.api.get(`/admin/v1/products/bota-dep2/deployments/${dep.deployment_id}`)).body.counts).toMatchObject({ offered: 1, failed: 1 });
    expect((await heartbeat('pin-after', { product: 'bota-dep2', firmware_version: 'v1.0.1' })).body.ota).toBeNull();
    await t.api.post(`/admin/v1/products/bota-dep2/deployments/${dep.deployment_id}/pause`);
  });
});

describe('HTTP OTA — hardware-safe heartbeat', () => {
  it('bad JSON → 400 JSON error, nothing written', async () => {
    const r = await t.api.post('/api/v1/devices/pin-bad-1/heartbeat', '{"product": "bota", ', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.body.error.code).toBeDefined();
    expect((await getDevice('bota', 'pin-bad-1')).status).toBe(404);
  });

  it('empty body → 400, nothing written', async () => {
    const r = await t.api.post('/api/v1/devices/pin-bad-2/heartbeat', '', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect((await getDevice('bota', 'pin-bad-2')).status).toBe(404);
  });

  it('missing product → 400, nothing written', async () => {
    const r = await heartbeat('pin-bad-3', { firmware_version: 'v1.0.0' });
    expect(r.status).toBe(400);
    expect(r.body.error).toBeDefined();
    expect((await getDevice('bota', 'pin-bad-3')).status).toBe(404);
  });

  it('invalid device id in the path → 400', async () => {
    for (const id of ['-starts-with-dash', 'has space', 'x'.repeat(65), 'semi;colon']) {
      const r = await heartbeat(id, { product: 'bota', firmware_version: 'v1.0.0' });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_device_id');
    }
  });

  it('invalid field values (ota_status, firmware_version, types) → 400, nothing written', async () => {
    const bad = [
      { product: 'bota', firmware_version: 'v1.0.0', ota_status: 'exploded' },
      { product: 'bota', firmware_version: 'not a version' },
      { product: 'bota', firmware_version: 101 },
      { product: 'Bota Pin' },
      ['bota'],
    ];
    for (const body of bad) {
      const r = await heartbeat('pin-bad-4', body);
      expect(r.status).toBe(400);
    }
    expect((await getDevice('bota', 'pin-bad-4')).status).toBe(404);
  });

  it('a malformed heartbeat does not move an open assignment', async () => {
    await onlineDevice('bota', 'pin-bad-5', 'v1.0.0');
    await assign('bota', 'pin-bad-5', { build: build('bota', 'v1.0.1') });
    expect((await heartbeat('pin-bad-5', { product: 'bota', firmware_version: 'v1.0.0', ota_status: 'boom' })).status).toBe(400);
    expect((await getAssignment('bota', 'pin-bad-5')).body.state).toBe('pending');
  });

  it('unknown product → 200, no manifest, nothing written', async () => {
    const r = await heartbeat('pin-unknown-product', { product: 'no-such-product', firmware_version: 'v1.0.0' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: false, status: 'unknown_product', ota: null });
    expect(r.body.next_heartbeat_s).toBeGreaterThan(0);
    expect((await getDevice('no-such-product', 'pin-unknown-product')).status).toBe(404);
  });

  it('a failing credential (product_key product) → 200 unknown_device, no manifest, nothing written', async () => {
    const key = (await t.api.post('/admin/v1/products/bota-key/key')).body.product_key as string;
    // Refused: no key, a wrong key.
    for (const headers of [undefined, { 'x-ota-key': 'pk_wrong' }]) {
      const r = await heartbeat('pin-key-1', { product: 'bota-key', firmware_version: 'v1.0.0' }, headers);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: false, status: 'unknown_device', ota: null });
    }
    expect((await getDevice('bota-key', 'pin-key-1')).status).toBe(404);
    // With the key the device registers, and an assignment is delivered.
    expect((await heartbeat('pin-key-1', { product: 'bota-key', firmware_version: 'v1.0.0', token: key })).body).toMatchObject({ ok: true, ota: null });
    const a = (await assign('bota-key', 'pin-key-1', { build: build('bota-key', 'v1.0.1') })).body;
    // A wrong key neither receives the manifest nor moves the assignment, not even with a failure report.
    const wrong = await heartbeat('pin-key-1', { product: 'bota-key', firmware_version: 'v1.0.0', ota_status: 'failed' }, { authorization: 'Bearer pk_wrong' });
    expect(wrong.body).toMatchObject({ status: 'unknown_device', ota: null });
    const dev = (await getDevice('bota-key', 'pin-key-1')).body;
    expect(dev).toMatchObject({ assignment: { state: 'pending' }, failed_builds: [], last_status: null });
    const ok = await heartbeat('pin-key-1', { product: 'bota-key', firmware_version: 'v1.0.0' }, { authorization: `Bearer ${key}` });
    expect(ok.body.ota).toMatchObject({ version: 'v1.0.1', assignment_id: a.assignment_id });
  });
});

describe('Bluetooth OTA — releases/latest (no assignment needed)', () => {
  it('a released firmware newer than the device version exists → 200 { status, update_available, version, build_number, notes, bin, ufw }', async () => {
    const r = await latest('bota-app', '?current_version=v1.0.0&model=Bota%20Pin');
    expect(r.status).toBe(200);
    const bin = published.get('bota-app/v1.1.0/fw.bin')!;
    const ufw = published.get('bota-app/v1.1.0/pin.ufw')!;
    expect(r.body).toMatchObject({
      status: 'update_available',
      update_available: true,
      version: 'v1.1.0',
      build_number: build('bota-app', 'v1.1.0'),
      notes: 'Longer recordings',
      bin: { url: expect.any(String), size: bin.length, crc32: crc32Hex(bin), sha256: sha256(bin) },
      ufw: { url: expect.any(String), size: ufw.length, crc32: crc32Hex(ufw), sha256: sha256(ufw) },
    });
  });

  it('the app downloads the .ufw (and the .bin) through presigned URLs: exact bytes, checksums match', async () => {
    const { bin, ufw } = (await latest('bota-app', '?current_version=v1.0.0&model=Bota%20Pin')).body;
    const ufwBytes = await download(ufw.url);
    expect(ufwBytes.equals(published.get('bota-app/v1.1.0/pin.ufw')!)).toBe(true);
    expect(ufw.crc32).toMatch(/^[0-9a-fA-F]{8}$/);
    expect(ufw.crc32.toLowerCase()).toBe(crc32Hex(ufwBytes));
    expect(ufw.sha256).toBe(sha256(ufwBytes));
    const binBytes = await download(bin.url);
    expect(binBytes.equals(published.get('bota-app/v1.1.0/fw.bin')!)).toBe(true);
    expect(bin.crc32.toLowerCase()).toBe(crc32Hex(binBytes));
  });

  it('the device model is compared case-insensitively', async () => {
    for (const model of ['bota%20pin', 'BOTA%20PIN', 'Bota%20Pin']) {
      const r = await latest('bota-app', `?current_version=v1.0.0&model=${model}`);
      expect(r.body).toMatchObject({ update_available: true, version: 'v1.1.0' });
    }
  });

  it('only releases for the device model count: another model’s newer release is not offered', async () => {
    // v2.x is for the Bota Note only.
    const pin = await latest('bota-app', '?current_version=v1.1.0&model=Bota%20Pin');
    expect(pin.status).toBe(200);
    expect(pin.body.update_available).toBe(false);
    const note = await latest('bota-app', '?current_version=v2.0.0&model=Bota%20Note');
    expect(note.body).toMatchObject({ update_available: true, version: 'v2.1.0' });
  });

  it('the newest eligible release wins (not merely the next one)', async () => {
    const r = await latest('bota-app', '?current_version=v0.9.0&model=Bota%20Note');
    expect(r.body).toMatchObject({ update_available: true, version: 'v2.1.0', build_number: build('bota-app', 'v2.1.0') });
  });

  it('a release without a .ufw file → ufw: null (bin still offered)', async () => {
    const r = await latest('bota-app', '?current_version=v2.0.0&model=bota%20note');
    expect(r.body.update_available).toBe(true);
    expect(r.body.ufw).toBeNull();
    expect(r.body.bin).toMatchObject({ size: published.get('bota-app/v2.1.0/fw.bin')!.length });
  });

  it('a DRAFT build is not a released firmware: never offered', async () => {
    // v1.3.0 (Bota Pin) is a DRAFT.
    const r = await latest('bota-app', '?current_version=v1.1.0&model=Bota%20Pin');
    expect(r.body.update_available).toBe(false);
    expect(r.body.version).not.toBe('v1.3.0');
  });

  it('a REVOKED build is no longer offered; the previous release is', async () => {
    expect((await latest('bota-app', '?current_version=v1.0.0&model=Bota%20Pin%20Pro')).body.version).toBe('v3.0.0');
    expect((await t.api.post(`/admin/v1/products/bota-app/firmware/${build('bota-app', 'v3.0.0')}/revoke`)).status).toBe(200);
    const r = await latest('bota-app', '?current_version=v1.0.0&model=Bota%20Pin%20Pro');
    expect(r.body).toMatchObject({ update_available: true, version: 'v1.1.0' });
  });

  it('nothing newer (same or newer current version) → 200 update_available: false', async () => {
    for (const v of ['v1.1.0', '1.1.0', 'v1.2.0']) {
      const r = await latest('bota-app', `?current_version=${v}&model=Bota%20Pin`);
      expect(r.status).toBe(200);
      expect(r.body.update_available).toBe(false);
      expect(r.body.bin).toBeUndefined();
    }
  });

  it('no assignment is involved: the lookup neither needs nor creates one', async () => {
    await onlineDevice('bota-app', 'pin-ble', 'v1.0.0');
    await latest('bota-app', '?current_version=v1.0.0&model=Bota%20Pin');
    expect((await getDevice('bota-app', 'pin-ble')).body.assignment).toBeNull();
  });

  it('missing current_version → 400 JSON', async () => {
    for (const q of ['', '?model=Bota%20Pin', '?current_version=']) {
      const r = await latest('bota-app', q);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      expect(r.body.error).toBeDefined();
    }
  });

  it('an unparsable current_version → 400', async () => {
    const r = await latest('bota-app', '?current_version=latest&model=Bota%20Pin');
    expect(r.status).toBe(400);
  });

  it('a product_key product: the app without the key learns nothing (200, update_available false); with it, the release', async () => {
    const key = (await t.api.post('/admin/v1/products/bota-key/key')).body.product_key as string;
    for (const headers of [undefined, { 'x-ota-key': 'pk_wrong' }]) {
      const r = await t.api.get('/api/v1/products/bota-key/releases/latest?current_version=v1.0.0&model=Bota%20Pin', headers);
      expect(r.status).toBe(200);
      expect(r.body.update_available).toBe(false);
      expect(r.body.bin).toBeUndefined();
    }
    const ok = await t.api.get('/api/v1/products/bota-key/releases/latest?current_version=v1.0.0&model=Bota%20Pin', { 'x-ota-key': key });
    expect(ok.body).toMatchObject({ update_available: true, version: 'v1.0.1' });
  });

  it('unknown product → 200 status unknown_product', async () => {
    const r = await latest('no-such-product', '?current_version=v1.0.0&model=Bota%20Pin');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'unknown_product', update_available: false });
  });
});
