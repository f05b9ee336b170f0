/**
 * otactl in-process against the local platform (real HTTP, real s3rver, the upload function fed
 * by s3rver events): publish → build number, rejections, stale verdicts, and the operator
 * commands for products, firmware, deployments and devices, with --json and error handling.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { memoryOutput } from '../../lib/cli/output';
import { run, type ProgramDeps } from '../../lib/cli/program';
import { ingestS3Client } from '../../lib/cli/publish';
import { buildEspImage } from '../fixtures/esp-image';
import { otactlOn } from '../support/otactl';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';

jest.setTimeout(60_000);

let t: TestPlatform;
const tmp = mkdtempSync(join(tmpdir(), 'otactl-'));
beforeAll(async () => {
  t = await startTestPlatform();
  await createProduct(t.api, 'cli', { chip: 'esp32s3', firmware_type: 'CLI Board' });
});
afterAll(async () => {
  await t?.platform.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const otactl = (args: string[], deps: Partial<ProgramDeps> = {}) => otactlOn(t.platform, args, deps);

let folders = 0;
function releaseFolder(files: Record<string, Buffer>): string {
  const dir = join(tmp, `release-${++folders}`);
  mkdirSync(dir);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const image = (version: string, fill: number) => buildEspImage({ chip: 'esp32s3', version, fill });

/** Publishes a released build through the CLI; returns its build number. */
async function published(product: string, version: string, fill: number, extra: string[] = []): Promise<number> {
  const dir = releaseFolder({ 'app.bin': buildEspImage({ chip: product === 'cli' ? 'esp32s3' : 'esp32', version, fill }) });
  const r = await otactl(['publish', dir, '--product', product, '--version', version, '--release', ...extra]);
  expect(r).toMatchObject({ code: 0 });
  return Number(r.out.trim());
}

describe('publish', () => {
  it('otactl publish returns the build number and writes manifest.json with every file and its sha256', async () => {
    const app = image('1.0.0', 1);
    const ui = Buffer.from('littlefs bytes');
    const dir = releaseFolder({ 'app.bin': app, 'ui.bin': ui, 'bootloader.bin': Buffer.from('boot'), '.DS_Store': Buffer.from('x') });
    const r = await otactl(['publish', dir, '--product', 'cli', '--version', '1.0.0', '--notes', 'first', '--channel', 'beta', '--boards', 'devkit,s3box']);
    expect(r.code).toBe(0);
    const build = Number(r.out.trim());
    expect(Number.isInteger(build) && build >= 1).toBe(true);
    expect(r.err).toMatch(/accepted\s+cli 1\.0\.0/);
    // Not a TTY: plain lines, no progress bar redraws.
    expect(r.err).toContain('uploaded cli/1.0.0/app.bin');
    expect(r.err).not.toContain('\r');

    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toEqual({
      product: 'cli',
      version: '1.0.0',
      files: [
        { name: 'app.bin', sha256: sha(app) },
        { name: 'bootloader.bin', sha256: sha(Buffer.from('boot')) },
        { name: 'ui.bin', sha256: sha(ui) },
      ],
      notes: 'first',
      channel: 'beta',
      boards: ['devkit', 's3box'],
    });
    const fw = (await t.api.get(`/admin/v1/products/cli/firmware/${build}`)).body;
    expect(fw).toMatchObject({ build_number: build, version: '1.0.0', state: 'DRAFT', notes: 'first', channel: 'beta', boards: ['devkit', 's3box'] });
    expect(fw.files.find((f: any) => f.role === 'app').sha256).toBe(sha(app));
  });

  it('a rejected publish exits non-zero with the rejection code and reason', async () => {
    const dir = releaseFolder({ 'app.bin': image('9.9.9', 2) });
    const r = await otactl(['publish', dir, '--product', 'cli', '--version', '2.0.0']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^rejected: version_mismatch: .*9\.9\.9/m);
  });

  it('--app-version-check false accepts an image whose own version differs (Arduino builds)', async () => {
    const dir = releaseFolder({ 'sketch.ino.bin': image('3.0.7', 3) });
    const r = await otactl(['publish', dir, '--product', 'cli', '--version', '2.1.0', '--app-version-check', 'false', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ status: 'accepted', product: 'cli', version: '2.1.0', build_number: expect.any(Number) });
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).app_version_check).toBe(false);
  });

  it('a result.json left by an earlier rejected upload of the same version is not taken for the new verdict', async () => {
    const dir = releaseFolder({ 'app.bin': buildEspImage({ chip: 'esp32', version: '1.0.0', fill: 4 }) });
    const first = await otactl(['publish', dir, '--product', 'late', '--version', '1.0.0']);
    expect(first.code).toBe(1);
    expect(first.out).toContain('rejected: unknown_product');
    await createProduct(t.api, 'late', { firmware_type: 'Late' });
    const second = await otactl(['publish', dir, '--product', 'late', '--version', '1.0.0', '--release']);
    expect(second.code).toBe(0);
    expect(Number(second.out.trim())).toBe(1);
    expect((await t.api.get('/admin/v1/products/late/firmware/1')).body.state).toBe('RELEASED');
  });

  it('publishing identical bytes again returns the same build; different bytes for that version are rejected', async () => {
    const dir = releaseFolder({ 'app.bin': image('4.0.0', 5) });
    const a = await otactl(['publish', dir, '--product', 'cli', '--version', '4.0.0']);
    const b = await otactl(['publish', dir, '--product', 'cli', '--version', '4.0.0', '--json']);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(b.json()).toMatchObject({ build_number: Number(a.out.trim()), duplicate: true });
    const other = releaseFolder({ 'app.bin': image('4.0.0', 6) });
    const c = await otactl(['publish', other, '--product', 'cli', '--version', '4.0.0', '--json']);
    expect(c.code).toBe(1);
    expect(c.json()).toMatchObject({ status: 'rejected', code: 'version_exists' });
  });

  it('times out with exit code 3 (not finished) when no verdict arrives (a bucket without the upload function)', async () => {
    const dir = releaseFolder({ 'app.bin': image('5.0.0', 7) });
    const r = await otactl(['publish', dir, '--product', 'cli', '--version', '5.0.0', '--bucket', t.platform.buckets.firmware, '--timeout', '1']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/error: timeout: no verdict/);
  });

  it('a file upload that fails with a 5xx is retried with a fresh stream; an AccessDenied is not', async () => {
    const app = image('5.1.0', 12);
    const dir = releaseFolder({ 'app.bin': app });
    const puts: string[] = [];
    const flaky = (status: number, name: string, times: number) => (conn: any) => {
      const s3 = ingestS3Client(conn, {});
      const send = s3.send.bind(s3);
      let failures = 0;
      s3.send = (async (cmd: any) => {
        if (cmd instanceof PutObjectCommand) puts.push(cmd.input.Key!);
        if (cmd instanceof PutObjectCommand && cmd.input.Key!.endsWith('app.bin') && failures < times) {
          failures++;
          throw Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
        }
        return send(cmd);
      }) as typeof s3.send;
      return s3;
    };
    const ok = await otactl(['publish', dir, '--product', 'cli', '--version', '5.1.0'], { s3: flaky(503, 'ServiceUnavailable', 1) });
    expect(ok.code).toBe(0);
    expect(puts.filter((k) => k === 'cli/5.1.0/app.bin')).toHaveLength(2);
    const fw = (await t.api.get(`/admin/v1/products/cli/firmware/${Number(ok.out.trim())}`)).body;
    expect(fw.files[0].sha256).toBe(sha(app)); // the retry sent every byte

    puts.length = 0;
    const denied = await otactl(['publish', dir, '--product', 'cli', '--version', '5.1.0'], { s3: flaky(403, 'AccessDenied', 5) });
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/^error: AccessDenied: AccessDenied$/m);
    expect(puts).toEqual(['cli/5.1.0/app.bin']); // once, and no manifest after a failed file
  });

  it('waits through a pending verdict (a file landing after the manifest) and reports the build', async () => {
    const app = image('5.2.0', 13);
    const dir = releaseFolder({ 'app.bin': app, 'ui.bin': Buffer.from('late ui') });
    // A CI sync that uploads ui.bin only after manifest.json.
    const late = (conn: any) => {
      const s3 = ingestS3Client(conn, {});
      const send = s3.send.bind(s3);
      let held: PutObjectCommand | undefined;
      s3.send = (async (cmd: any) => {
        if (cmd instanceof PutObjectCommand && cmd.input.Key!.endsWith('ui.bin') && !held) {
          held = new PutObjectCommand({ ...cmd.input, Body: readFileSync(join(dir, 'ui.bin')) });
          return {};
        }
        const r = await send(cmd);
        if (cmd instanceof PutObjectCommand && cmd.input.Key!.endsWith('manifest.json') && held) setTimeout(() => void send(held!), 1500);
        return r;
      }) as typeof s3.send;
      return s3;
    };
    const r = await otactl(['publish', dir, '--product', 'cli', '--version', '5.2.0', '--timeout', '20'], { s3: late });
    expect(r.err).toMatch(/pending: waiting for ui\.bin/);
    expect(r.code).toBe(0);
    const fw = (await t.api.get(`/admin/v1/products/cli/firmware/${Number(r.out.trim())}`)).body;
    expect(fw.files.map((f: any) => f.name).sort()).toEqual(['app.bin', 'ui.bin']);
  });

  it('an empty folder, a bad version or product id are refused before anything is uploaded', async () => {
    const r = await otactl(['publish', releaseFolder({}), '--product', 'cli', '--version', '6.0.0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/has no files to publish/);
    const dir = releaseFolder({ 'app.bin': image('6.0.0', 13) });
    const badVersion = await otactl(['publish', dir, '--product', 'cli', '--version', '../6.0.0']);
    expect(badVersion.code).toBe(1);
    expect(badVersion.err).toBe('error: --version "../6.0.0" is not a semver, calendar or numeric version\n');
    const badProduct = await otactl(['publish', dir, '--product', 'CLI', '--version', '6.0.0']);
    expect(badProduct.err).toMatch(/^error: --product "CLI" must match/);
  });
});

describe('product', () => {
  it('product put creates a product and product get --json returns it', async () => {
    const put = await otactl([
      'product',
      'put',
      'gadget',
      '--chip',
      'esp32c3',
      '--security-mode',
      'open',
      '--firmware-type',
      'Gadget',
      '--firefly-class',
      'gadget',
      '--firefly-hex',
      '0x2A',
    ]);
    expect(put.code).toBe(0);
    expect(put.out).toMatch(/product\s+gadget/);
    const get = await otactl(['product', 'get', 'gadget', '--json']);
    expect(get.code).toBe(0);
    expect(get.json()).toMatchObject({
      product_id: 'gadget',
      chip: 'esp32c3',
      security_mode: 'open',
      firmware_type: 'Gadget',
      protocols: { firefly: { product_class: 'gadget', product_hex: '0x2a' } },
    });
  });

  it('product put --merge changes only the given settings (a plain PUT replaces them all)', async () => {
    const r = await otactl(['product', 'put', 'gadget', '--merge', '--security-mode', 'product_key', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      chip: 'esp32c3',
      firmware_type: 'Gadget',
      security_mode: 'product_key',
      protocols: { firefly: { product_class: 'gadget' } },
    });
  });

  it('product put --merge keeps the settings no flag names, device_selects_channel and max_image_size too', async () => {
    const file = join(tmp, 'keeper.json');
    writeFileSync(file, JSON.stringify({ chip: 'esp32', security_mode: 'open', device_selects_channel: true, max_image_size: 131072 }));
    expect((await otactl(['product', 'put', 'keeper', '--file', file])).code).toBe(0);
    const r = await otactl(['product', 'put', 'keeper', '--merge', '--name', 'Keeper', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ name: 'Keeper', chip: 'esp32', security_mode: 'open', device_selects_channel: true, max_image_size: 131072 });
  });

  it('rotate-key shows the key once; retire-previous-key stops accepting the old one', async () => {
    const k1 = await otactl(['product', 'rotate-key', 'gadget', '--json']);
    expect(k1.json().product_key).toEqual(expect.any(String));
    const k2 = await otactl(['product', 'rotate-key', 'gadget']);
    expect(k2.out).toMatch(/previous key\s+still accepted/);
    const retire = await otactl(['product', 'retire-previous-key', 'gadget', '--json']);
    expect(retire.json()).toEqual({ previous_key_accepted: false });
    expect((await otactl(['product', 'get', 'gadget', '--json'])).json()).toMatchObject({ product_key_set: true, previous_product_key_accepted: false });
  });

  it('an API error prints code + message and exits 1 (with --json the error body on stdout)', async () => {
    const r = await otactl(['product', 'get', 'nope']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: product_not_found: Product nope does not exist\n');
    const j = await otactl(['product', 'get', 'nope', '--json']);
    expect(j.code).toBe(1);
    expect(j.json()).toEqual({ error: { code: 'product_not_found', message: 'Product nope does not exist' } });
    const bad = await otactl(['product', 'put', 'Bad Id', '--chip', 'esp32', '--security-mode', 'open']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error: invalid_product_id: /);
  });

  it('an unreachable endpoint is one line naming the URL, exit 1', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r)); // a port nobody listens on
    const out = memoryOutput();
    expect(await run(['product', 'get', 'x', '--endpoint', `http://127.0.0.1:${port}`], { out, env: {} })).toBe(1);
    expect(out.err()).toBe(`error: cannot reach http://127.0.0.1:${port}: ECONNREFUSED (is the local platform running? \`npm start\`)\n`);
  });
});

describe('firmware', () => {
  it('list (with --state / --version filters), get, release, revoke', async () => {
    const b = await published('cli', '7.0.0', 8);
    const list = await otactl(['firmware', 'list', '--product', 'cli', '--json']);
    expect(list.json().items.map((f: any) => f.build_number)).toContain(b);
    const byVersion = await otactl(['firmware', 'list', '--product', 'cli', '--version', '7.0.0', '--json']);
    expect(byVersion.json().items.map((f: any) => f.build_number)).toEqual([b]);
    const drafts = await otactl(['firmware', 'list', '--product', 'cli', '--state', 'DRAFT', '--json']);
    expect(drafts.json().items.every((f: any) => f.state === 'DRAFT')).toBe(true);
    expect(drafts.json().items.map((f: any) => f.build_number)).not.toContain(b);
    const human = await otactl(['firmware', 'list', '--product', 'cli']);
    expect(human.out).toMatch(/^BUILD\s+VERSION\s+STATE/);

    const draft = drafts.json().items[0].build_number;
    expect((await otactl(['firmware', 'release', String(draft), '--product', 'cli', '--json'])).json()).toMatchObject({
      build_number: draft,
      state: 'RELEASED',
    });
    const got = await otactl(['firmware', 'get', String(b), '--product', 'cli']);
    expect(got.out).toMatch(/state\s+RELEASED/);
    expect(got.out).toMatch(/^ROLE\s+NAME\s+SIZE\s+SHA256/m);
    const revoked = await otactl(['firmware', 'revoke', String(draft), '--product', 'cli', '--json']);
    expect(revoked.json()).toMatchObject({ state: 'REVOKED', paused_deployments: [] });
  });

  it('--state takes only the documented states', async () => {
    const r = await otactl(['firmware', 'list', '--product', 'cli', '--state', 'LIVE']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Allowed choices are DRAFT, RELEASED, REVOKED/);
  });
});

describe('deploy', () => {
  let build: number;
  beforeAll(async () => {
    await createProduct(t.api, 'dep', { firmware_type: 'Dep' });
    build = await published('dep', '1.1.0', 9);
  });
  const check = (device_id: string) => t.api.post('/api/v1/ota/check', { product: 'dep', device_id, version: '1.0.0' });

  it('deploy create --json returns the deployment; deploy status --json returns its counters', async () => {
    const c = await otactl([
      'deploy',
      'create',
      '--product',
      'dep',
      '--build',
      String(build),
      '--percentage',
      '100',
      '--seed',
      's1',
      '--max-failures',
      '5',
      '--max-failure-rate',
      '0.5',
      '--min-sample',
      '4',
      '--timeout-minutes',
      '30',
      '--json',
    ]);
    expect(c.code).toBe(0);
    const d = c.json();
    expect(d).toMatchObject({
      product_id: 'dep',
      build_number: build,
      percentage: 100,
      seed: 's1',
      state: 'active',
      policy: { max_failures: 5, max_failure_rate: 0.5, min_sample: 4, in_progress_timeout_minutes: 30 },
    });
    expect((await check('AA:00:00:00:00:01')).body.status).toBe('update_available');
    const s = await otactl(['deploy', 'status', d.deployment_id, '--product', 'dep', '--json']);
    expect(s.code).toBe(0);
    expect(s.json()).toMatchObject({ deployment_id: d.deployment_id, counts: { offered: 1, succeeded: 0, in_flight: 1 } });

    const human = await otactl(['deploy', 'status', d.deployment_id, '--product', 'dep']);
    expect(human.out).toMatch(/OFFERED\s+SUCCEEDED\s+FAILED\s+ROLLED BACK\s+TIMED OUT\s+IN FLIGHT/);
    expect(human.out).toMatch(/0\/1 offers settled/);

    const list = await otactl(['deploy', 'list', '--product', 'dep', '--json']);
    expect(list.json().items.map((x: any) => x.deployment_id)).toContain(d.deployment_id);
    expect((await otactl(['deploy', 'get', d.deployment_id, '--product', 'dep', '--json'])).json().deployment_id).toBe(d.deployment_id);
    expect((await otactl(['deploy', 'cancel', d.deployment_id, '--product', 'dep', '--json'])).json().state).toBe('cancelled');
  });

  it('promote, pause, resume and cancel; an invalid transition is the API error', async () => {
    const d = (await otactl(['deploy', 'create', '--product', 'dep', '--build', String(build), '--percentage', '10', '--channel', 'canary', '--json'])).json();
    const id = d.deployment_id;
    expect((await otactl(['deploy', 'promote', id, '--product', 'dep', '--percentage', '25.5', '--json'])).json().percentage).toBe(25.5);
    const down = await otactl(['deploy', 'promote', id, '--product', 'dep', '--percentage', '5']);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^error: percentage_decrease: /);
    expect((await otactl(['deploy', 'pause', id, '--product', 'dep', '--json'])).json().state).toBe('paused');
    expect((await otactl(['deploy', 'resume', id, '--product', 'dep', '--json'])).json().state).toBe('active');
    expect((await otactl(['deploy', 'cancel', id, '--product', 'dep', '--json'])).json().state).toBe('cancelled');
    const again = await otactl(['deploy', 'resume', id, '--product', 'dep']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^error: invalid_state: /);
  });

  it('deploy create --schedule sends canary steps and --groups', async () => {
    const r = await otactl([
      'deploy',
      'create',
      '--product',
      'dep',
      '--build',
      String(build),
      '--schedule',
      '1:60:0.95,10:60:0.95,100:0:0',
      '--groups',
      'lab,qa',
      '--channel',
      'sched',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      percentage: 1,
      groups: ['lab', 'qa'],
      schedule: {
        current_step: 0,
        steps: [{ percentage: 1, soak_minutes: 60, min_success_rate: 0.95 }, { percentage: 10 }, { percentage: 100, soak_minutes: 0, min_success_rate: 0 }],
      },
    });
    await otactl(['deploy', 'cancel', r.json().deployment_id, '--product', 'dep']);
  });

  it('deploy status --watch refreshes until the deployment is paused (exit 2) and stops on Ctrl-C (130)', async () => {
    const d = (await otactl(['deploy', 'create', '--product', 'dep', '--build', String(build), '--percentage', '100', '--channel', 'watch', '--json'])).json();
    const device = 'AA:00:00:00:0A:01';
    const watching = otactl(['deploy', 'status', d.deployment_id, '--product', 'dep', '--watch'], { watchIntervalMs: 50 });
    await new Promise((r) => setTimeout(r, 200));
    await t.api.post('/api/v1/ota/check', { product: 'dep', device_id: device, version: '1.0.0', channel: 'watch' });
    await new Promise((r) => setTimeout(r, 200));
    await t.api.post(`/admin/v1/products/dep/deployments/${d.deployment_id}/pause`);
    const w = await watching;
    expect(w.code).toBe(3);
    // Not a TTY: a snapshot per change — 0 offers, 1 offer, then paused.
    expect(w.out).toMatch(/state\s+active[\s\S]*0\/0 offers settled[\s\S]*0\/1 offers settled[\s\S]*state\s+paused \(manual\)/);

    const ctrlC = new AbortController();
    await t.api.post(`/admin/v1/products/dep/deployments/${d.deployment_id}/resume`);
    const json = otactl(['deploy', 'status', d.deployment_id, '--product', 'dep', '--watch', '--json'], { watchIntervalMs: 50, signal: ctrlC.signal });
    await new Promise((r) => setTimeout(r, 150));
    ctrlC.abort();
    const j = await json;
    expect(j.code).toBe(130);
    const lines = j.out.trim().split('\n');
    expect(lines.length).toBe(1); // nothing changed: one JSON document
    expect(JSON.parse(lines[0])).toMatchObject({ deployment_id: d.deployment_id, state: 'active', counts: { offered: 1 } });
    await otactl(['deploy', 'cancel', d.deployment_id, '--product', 'dep']);
  });
});

describe('device', () => {
  let build: number;
  let next: number;
  beforeAll(async () => {
    await createProduct(t.api, 'fleet', { firmware_type: 'Fleet' });
    build = await published('fleet', '2.0.0', 10);
    next = await published('fleet', '2.1.0', 11);
    for (const id of ['24:6F:28:00:00:01', '24:6F:28:00:00:02', '30:AE:A4:00:00:01']) {
      await t.api.post('/api/v1/ota/check', { product: 'fleet', device_id: id, version: '1.0.0' });
    }
  });

  it('device list (--prefix, --json) lists the devices that checked in', async () => {
    const all = await otactl(['device', 'list', '--product', 'fleet', '--json']);
    expect(all.code).toBe(0);
    expect(
      all
        .json()
        .items.map((d: any) => d.device_id)
        .sort(),
    ).toEqual(['24:6F:28:00:00:01', '24:6F:28:00:00:02', '30:AE:A4:00:00:01']);
    const some = await otactl(['device', 'list', '--product', 'fleet', '--prefix', '24:6F', '--json']);
    expect(
      some
        .json()
        .items.map((d: any) => d.device_id)
        .sort(),
    ).toEqual(['24:6F:28:00:00:01', '24:6F:28:00:00:02']);
    const human = await otactl(['device', 'list', '--product', 'fleet']);
    expect(human.out).toMatch(/^DEVICE\s+VERSION/);
    expect(human.out).toContain('30:AE:A4:00:00:01');
    const paged = await otactl(['device', 'list', '--product', 'fleet', '--limit', '2', '--all', '--json']);
    expect(paged.json().items).toHaveLength(3);
  });

  it('device get / patch (--active, --channel, --groups, --tag) / token', async () => {
    const id = '24:6F:28:00:00:01';
    expect((await otactl(['device', 'get', id, '--product', 'fleet', '--json'])).json()).toMatchObject({
      device_id: id,
      current_version: '1.0.0',
      active: true,
      token_set: false,
    });
    const p = await otactl([
      'device',
      'patch',
      id,
      '--product',
      'fleet',
      '--active',
      'false',
      '--channel',
      'beta',
      '--groups',
      'lab,qa',
      '--tag',
      'site=berlin',
      '--tag',
      'rack=3',
      '--json',
    ]);
    expect(p.code).toBe(0);
    expect(p.json()).toMatchObject({ active: false, channel: 'beta', groups: ['lab', 'qa'], tags: { site: 'berlin', rack: '3' } });
    const none = await otactl(['device', 'patch', id, '--product', 'fleet']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/nothing to change/);
    const tok = await otactl(['device', 'token', id, '--product', 'fleet', '--json']);
    expect(tok.json()).toMatchObject({ device_id: id, token: expect.stringMatching(/^.{24}$/) });
    expect((await otactl(['device', 'get', id, '--product', 'fleet'])).out).toMatch(/token\s+set/);
  });

  it('device assign --build (409 without --replace), assignment, unassign', async () => {
    const id = '24:6F:28:00:00:02';
    const a = await otactl(['device', 'assign', id, '--product', 'fleet', '--build', String(build), '--json']);
    expect(a.code).toBe(0);
    expect(a.json()).toMatchObject({ build_number: build, state: 'pending' });
    const conflict = await otactl(['device', 'assign', id, '--product', 'fleet', '--build', String(next)]);
    expect(conflict.code).toBe(1);
    expect(conflict.err).toMatch(/^error: assignment_pending: /);
    const replaced = await otactl(['device', 'assign', id, '--product', 'fleet', '--build', String(next), '--replace', '--json']);
    expect(replaced.code).toBe(0);
    expect((await otactl(['device', 'assignment', id, '--product', 'fleet', '--json'])).json()).toMatchObject({ build_number: next, state: 'pending' });
    expect((await otactl(['device', 'unassign', id, '--product', 'fleet', '--json'])).json()).toEqual({ cancelled: true });
    const gone = await otactl(['device', 'unassign', id, '--product', 'fleet']);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/^error: assignment_not_found: /);
  });
});
