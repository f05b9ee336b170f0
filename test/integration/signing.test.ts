/**
 * Signed builds end to end on the local platform (dynalite, s3rver, the edge, real HTTP): keys
 * through the operator API, each signature form through the real ingest pipeline, the detached
 * signature a device receives verified by openssl over the bytes it downloads, revocation pausing
 * deployments, platform signing with the local stand-in for the KMS key, and anti-rollback.
 * Every signature here is made with node:crypto (test/fixtures/signing.ts), never by the code under test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEspImage } from '../fixtures/esp-image';
import { detachedSign, esp32FotaSign, p256Key, rsaKey, sbv2Digest, sbv2Sign, type TestKey } from '../fixtures/signing';
import { createProduct, startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

jest.setTimeout(120_000);
let t: TestPlatform;
let rsa3072: TestKey;
let otherRsa3072: TestKey;
let rsa4096: TestKey;
let ecdsa: TestKey;
let work: string;

beforeAll(async () => {
  t = await startTestPlatform();
  [rsa3072, otherRsa3072, rsa4096, ecdsa] = [rsaKey(3072), rsaKey(3072), rsaKey(4096), p256Key()];
  work = mkdtempSync(join(tmpdir(), 'ota-signing-'));
});
afterAll(async () => {
  await t?.platform.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const keysPath = (product: string) => `/admin/v1/products/${product}/signing-keys`;
const addKey = (product: string, key: TestKey | string, name?: string) =>
  t.api.post(keysPath(product), { public_key: typeof key === 'string' ? key : key.publicKeyPem, ...(name ? { name } : {}) });
const image = (version: string, opts: Parameters<typeof buildEspImage>[0] = {}) => buildEspImage({ chip: 'esp32s3', version, fill: 7, ...opts });
const publish = (product: string, version: string, file: Buffer, manifest: Record<string, unknown> = {}) =>
  publishRelease(t.platform, { product, version, files: { 'app.bin': file }, manifest: { release: true, ...manifest } });
const signedManifest = (file: Buffer, key: TestKey, keyId: string) => ({
  files: [{ name: 'app.bin', signature: detachedSign(file, key), key_id: keyId }],
});
const check = (product: string, deviceId: string, body: Record<string, unknown> = {}) =>
  t.api.post('/api/v1/ota/check', { product, device_id: deviceId, version: '0.0.1', ...body });
const deploy = async (product: string, build: number) => {
  const d = await t.api.post(`/admin/v1/products/${product}/deployments`, { build, percentage: 100 });
  expect(d.status).toBe(201);
  return d.body.deployment_id as string;
};

/** `openssl dgst -sha256 -verify` over exactly these bytes, as an operator or a device's toolchain would. */
function opensslVerifies(bytes: Buffer, publicKeyPem: string, signatureBase64: string): boolean {
  const [file, pub, sig] = ['file.bin', 'pub.pem', 'sig.der'].map((n) => join(work, `${Date.now()}-${n}`));
  writeFileSync(file, bytes);
  writeFileSync(pub, publicKeyPem);
  writeFileSync(sig, Buffer.from(signatureBase64, 'base64'));
  try {
    return /Verified OK/.test(execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, file], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

describe('signing keys through the operator API', () => {
  beforeAll(() => createProduct(t.api, 'keys', { chip: 'esp32s3' }));

  it('expect a key id equal to the Secure Boot v2 eFuse digest, idempotent re-adds, and private keys refused', async () => {
    const added = await addKey('keys', rsa3072, 'release-2026');
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ key_id: sbv2Digest(rsa3072, 'rsa'), algorithm: 'rsa-3072', name: 'release-2026', origin: 'operator', state: 'active' });
    expect((await addKey('keys', rsa3072)).status).toBe(200);
    const priv = await addKey('keys', ecdsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    expect([priv.status, priv.body.error.code]).toEqual([400, 'private_signing_key']);
    const garbage = await addKey('keys', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    expect(garbage.status).toBe(400);
  });

  it('expect at most three active keys, a revoked key never re-added, and the list showing both states', async () => {
    expect((await addKey('keys', ecdsa)).status).toBe(201);
    expect((await addKey('keys', rsa4096)).status).toBe(201);
    const fourth = await addKey('keys', otherRsa3072);
    expect([fourth.status, fourth.body.error.code]).toEqual([409, 'signing_keys_full']);
    const revoked = await t.api.post(`${keysPath('keys')}/${sbv2Digest(rsa3072, 'rsa')}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ state: 'revoked', paused_deployments: [] });
    expect((await addKey('keys', otherRsa3072)).status).toBe(201); // the slot came back
    const again = await addKey('keys', rsa3072);
    expect([again.status, again.body.error.code]).toEqual([409, 'signing_key_revoked']);
    const list = (await t.api.get(keysPath('keys'))).body.items as { state: string }[];
    expect(list.map((k) => k.state).sort()).toEqual(['active', 'active', 'active', 'revoked']);
    expect((await t.api.post(`${keysPath('keys')}/${'0'.repeat(64)}/revoke`)).status).toBe(404);
    expect((await t.api.post(`${keysPath('keys')}/not-hex/revoke`)).body.error.code).toBe('invalid_key_id');
  });
});

describe('signing keys under concurrent adds (dynalite conditional writes)', () => {
  it('expect exactly three of six concurrent adds to succeed and the rest to be signing_keys_full', async () => {
    await createProduct(t.api, 'race', { chip: 'esp32s3' });
    const answers = await Promise.all(Array.from({ length: 6 }, () => addKey('race', p256Key())));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.error.code)).toEqual(Array(3).fill('signing_keys_full'));
    expect((await t.api.get(keysPath('race'))).body.items).toHaveLength(3);
  });
});

describe('policy', () => {
  beforeAll(async () => {
    await createProduct(t.api, 'strict', { chip: 'esp32s3', signing: 'required' });
    await createProduct(t.api, 'lenient', { chip: 'esp32s3', signing: 'optional' });
  });

  it('expect required to reject an unsigned build with `unsigned`, burning no build number', async () => {
    const r = await publish('strict', '1.0.0', image('1.0.0'));
    expect([r.status, r.code]).toEqual(['rejected', 'unsigned']);
    expect((await t.api.get('/admin/v1/products/strict/firmware')).body.items).toEqual([]);
  });

  it('expect optional to accept an unsigned build and say so', async () => {
    const r = await publish('lenient', '1.0.0', image('1.0.0'));
    expect(r.status).toBe('accepted');
    expect(r.signature).toEqual({ form: 'none', key_ids: [], platform_signed: false });
    expect((await t.api.get(`/admin/v1/products/lenient/firmware/${r.build_number}`)).body.signature).toBeNull();
  });
});

describe('detached ECDSA P-256 signatures', () => {
  let keyId: string;
  beforeAll(async () => {
    await createProduct(t.api, 'detached', { chip: 'esp32s3', signing: 'required' });
    keyId = (await addKey('detached', ecdsa)).body.key_id;
  });

  it('expect a signed build accepted, its verification recorded, and the offer carrying a signature openssl verifies over the downloaded bytes', async () => {
    const file = image('1.0.0');
    const r = await publish('detached', '1.0.0', file, signedManifest(file, ecdsa, keyId));
    expect(r.status).toBe('accepted');
    expect(r.signature).toEqual({ form: 'detached', key_ids: [keyId], platform_signed: false });
    const fw = (await t.api.get(`/admin/v1/products/detached/firmware/${r.build_number}`)).body;
    expect(fw.signature).toMatchObject({ form: 'detached', key_ids: [keyId], algorithm: 'ecdsa-p256', image_offset: 0, platform: false });
    await deploy('detached', r.build_number);

    const offer = (await check('detached', 'AA:BB:CC:00:00:01')).body;
    expect(offer).toMatchObject({ status: 'update_available', signature_alg: 'ecdsa-p256-sha256', key_id: keyId });
    expect(offer.signature.length).toBeLessThanOrEqual(96);
    const downloaded = Buffer.from(await (await fetch(offer.url)).arrayBuffer());
    expect(opensslVerifies(downloaded, ecdsa.publicKeyPem, offer.signature)).toBe(true);
    expect(opensslVerifies(Buffer.concat([downloaded, Buffer.from([0])]), ecdsa.publicKeyPem, offer.signature)).toBe(false);
  });

  it.each<[string, (f: Buffer, id: string) => { file: Buffer; manifest: Record<string, unknown> }, string]>([
    [
      'tampered image',
      (f: Buffer, id: string) => ({
        file: Buffer.concat([f.subarray(0, 100), Buffer.from([f[100] ^ 1]), f.subarray(101)]),
        manifest: signedManifest(f, ecdsa, id),
      }),
      'bad_signature',
    ],
    ['unregistered key', (f: Buffer) => ({ file: f, manifest: signedManifest(f, p256Key(), 'f'.repeat(64)) }), 'unknown_signing_key'],
    [
      'garbage signature',
      (f: Buffer, id: string) => ({ file: f, manifest: { files: [{ name: 'app.bin', signature: 'AAAA', key_id: id }] } }),
      'malformed_signature',
    ],
  ])('expect a %s to be rejected', async (_, make, code) => {
    const version = `2.0.${code.length}`;
    const { file, manifest } = make(image(version), keyId);
    const r = await publish('detached', version, file, manifest);
    expect([r.status, r.code]).toEqual(['rejected', code]);
  });
});

describe('Secure Boot v2 signature blocks', () => {
  let keyId: string;
  beforeAll(async () => {
    await createProduct(t.api, 'sbv2', { chip: 'esp32s3', signing: 'required' });
    keyId = (await addKey('sbv2', rsa3072)).body.key_id;
  });

  it('expect an RSA-3072 signed image accepted with the block key recorded, and devices handed the file as signed', async () => {
    const file = sbv2Sign(image('1.0.0'), [{ key: rsa3072, kind: 'rsa' }]);
    const r = await publish('sbv2', '1.0.0', file);
    expect(r.status).toBe('accepted');
    expect(r.signature).toEqual({ form: 'secure_boot_v2', key_ids: [keyId], platform_signed: false });
    await deploy('sbv2', r.build_number);
    const offer = (await check('sbv2', 'AA:BB:CC:00:00:02')).body;
    expect(offer.signature).toBeUndefined(); // the bootloader verifies the embedded block
    expect(Buffer.from(await (await fetch(offer.url)).arrayBuffer()).equals(file)).toBe(true);
  });

  it('expect an image signed by an unregistered key rejected, even though the block embeds its own key', async () => {
    const r = await publish('sbv2', '1.1.0', sbv2Sign(image('1.1.0'), [{ key: otherRsa3072, kind: 'rsa' }]));
    expect([r.status, r.code]).toEqual(['rejected', 'unknown_signing_key']);
  });

  it('expect an ECDSA block rejected on a chip whose bootloader verifies RSA only', async () => {
    const ec = await addKey('sbv2', ecdsa);
    expect(ec.status).toBe(201);
    const r = await publish('sbv2', '1.2.0', sbv2Sign(image('1.2.0'), [{ key: ecdsa, kind: 'ecdsa' }]));
    expect([r.status, r.code]).toEqual(['rejected', 'malformed_signature']);
  });
});

describe('esp32FOTA signed images', () => {
  const FF = { product_class: 'fota', product_hex: '0x0000F07A' };
  beforeAll(async () => {
    await createProduct(t.api, 'fota', { chip: 'esp32s3', signing: 'required', firmware_type: 'FotaBoard', protocols: { firefly: FF } });
    await addKey('fota', rsa4096);
  });

  it('expect the prefixed signature verified, the image behind it validated, and esp32FOTA handed exactly the signed file', async () => {
    const file = esp32FotaSign(image('1.0.0'), rsa4096);
    const r = await publish('fota', '1.0.0', file);
    expect(r.status).toBe('accepted');
    expect(r.app.version).toBe('1.0.0'); // read from the image at byte 512
    const fw = (await t.api.get(`/admin/v1/products/fota/firmware/${r.build_number}`)).body;
    expect(fw.signature).toMatchObject({ form: 'esp32fota', algorithm: 'rsa-4096', image_offset: 512 });
    await deploy('fota', r.build_number);
    const manifest = (await t.api.get(`/ota/${FF.product_class}/${FF.product_hex}?current_version=0.0.1&id=1234`)).body;
    const url = manifest.url ?? `http://${manifest.host}:${manifest.port}${manifest.bin}`;
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(file)).toBe(true);
    // A client that would write the prefix to flash as the image (native, Arduino…) is not offered it.
    expect((await check('fota', 'AA:BB:CC:00:00:09')).body).toMatchObject({ status: 'no_update' });
  });

  it('expect a tampered image behind the signature rejected', async () => {
    const file = esp32FotaSign(image('1.1.0'), rsa4096);
    file[600] ^= 0xff;
    const r = await publish('fota', '1.1.0', file);
    expect(r.status).toBe('rejected');
    expect(r.code).toBe('bad_signature'); // the prefix opens with a registered key: it signs other bytes
  });
});

describe('revoking a key', () => {
  it('expect active deployments of builds only the revoked key vouched for paused, others left running', async () => {
    await createProduct(t.api, 'rotate', { chip: 'esp32s3', signing: 'required' });
    const oldId = (await addKey('rotate', ecdsa, 'old')).body.key_id;
    const fresh = p256Key();
    const newId = (await addKey('rotate', fresh, 'new')).body.key_id;
    const a = image('1.0.0');
    const b = image('1.1.0');
    const byOld = await publish('rotate', '1.0.0', a, signedManifest(a, ecdsa, oldId));
    const byNew = await publish('rotate', '1.1.0', b, signedManifest(b, fresh, newId));
    const depOld = await deploy('rotate', byOld.build_number);
    const depNew = await t.api.post('/admin/v1/products/rotate/deployments', { build: byNew.build_number, percentage: 100, channel: 'beta' });

    const revoked = await t.api.post(`${keysPath('rotate')}/${oldId}/revoke`);
    expect(revoked.body.paused_deployments).toEqual([depOld]);
    expect((await t.api.get(`/admin/v1/products/rotate/deployments/${depOld}`)).body).toMatchObject({ state: 'paused' });
    expect((await t.api.get(`/admin/v1/products/rotate/deployments/${depNew.body.deployment_id}`)).body).toMatchObject({ state: 'active' });
    const later = image('1.2.0');
    const r = await publish('rotate', '1.2.0', later, signedManifest(later, ecdsa, oldId));
    expect([r.status, r.code]).toEqual(['rejected', 'revoked_signing_key']);
  });
});

describe('platform signing (the local stand-in for the KMS key)', () => {
  it('expect the platform key registered with the product and every accepted build signed with it, verifiable by openssl', async () => {
    await createProduct(t.api, 'platform', { chip: 'esp32s3', platform_signing: true });
    const keys = (await t.api.get(keysPath('platform'))).body.items;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ origin: 'platform', algorithm: 'ecdsa-p256', state: 'active' });
    const r = await publish('platform', '1.0.0', image('1.0.0'));
    expect(r.status).toBe('accepted');
    expect(r.signature).toEqual({ form: 'detached', key_ids: [keys[0].key_id], platform_signed: true });
    await deploy('platform', r.build_number);
    const offer = (await check('platform', 'AA:BB:CC:00:00:03')).body;
    expect(offer.key_id).toBe(keys[0].key_id);
    const downloaded = Buffer.from(await (await fetch(offer.url)).arrayBuffer());
    expect(opensslVerifies(downloaded, keys[0].public_key, offer.signature)).toBe(true);
    // A second PUT keeps one platform key.
    await createProduct(t.api, 'platform', { chip: 'esp32s3', platform_signing: true });
    expect((await t.api.get(keysPath('platform'))).body.items).toHaveLength(1);
  });
});

describe('response sizes with a signature', () => {
  // ESP-IDF's example reads a check response into 2048 bytes (examples/esp-idf-native RESPONSE_MAX);
  // Bota devices read their heartbeat answer into the same budget.
  const LIMIT = 2048;
  const cloudGrowth = (text: string) => {
    const urls = text.match(/https?:\/\/[^"]+/g) ?? [];
    return urls.length * Math.max(0, 'https://d111111abcdef8.cloudfront.net'.length - t.platform.cdnUrl.replace(/\/+$/, '').length);
  };

  it('expect the worst-case native check answer and Bota heartbeat, signature included, within 2048 bytes', async () => {
    const product = 'size-' + 'x'.repeat(27);
    expect(product).toHaveLength(32);
    const longType = 'Signed Controller ' + 'L'.repeat(46);
    await createProduct(t.api, product, { chip: 'esp32s3', firmware_type: longType, platform_signing: true });
    const version = '2026.12.999-rc.1234567890';
    const r = await publishRelease(t.platform, {
      product,
      version,
      files: { 'app.bin': image(version), 'ui.bin': Buffer.alloc(4096, 1) },
      manifest: { release: true, app_version_check: false },
    });
    expect(r.status).toBe('accepted');
    await deploy(product, r.build_number);
    const deviceId = 'device-' + 'd'.repeat(57);
    const native = await check(product, deviceId, { version: '0.0.1' });
    expect(native.body).toMatchObject({ status: 'update_available', signature: expect.any(String), ui: expect.any(Object) });
    const bytes = Buffer.byteLength(native.text, 'utf8');
    expect(bytes + cloudGrowth(native.text)).toBeLessThan(LIMIT);

    const hb = await t.api.post(`/api/v1/devices/${encodeURIComponent(deviceId.replace('device', 'bota-d'))}/heartbeat`, {
      product,
      firmware_version: '0.0.1',
    });
    expect(hb.status).toBe(200);
    expect(hb.body.ota).toMatchObject({ signature: expect.any(String), key_id: expect.any(String) });
    expect(Buffer.byteLength(hb.text, 'utf8') + cloudGrowth(hb.text)).toBeLessThan(LIMIT);
  });
});

describe('anti-rollback', () => {
  beforeAll(() => createProduct(t.api, 'arb', { chip: 'esp32s3' }));

  it('expect a device on secure_version 2 never offered a secure_version 1 build, and a release raising secure_version to warn', async () => {
    const v1 = await publish('arb', '1.0.0', image('1.0.0', { secureVersion: 1 }));
    expect(v1.warnings).toEqual([expect.stringMatching(/raises secure_version to 1/)]);
    await deploy('arb', v1.build_number);
    expect((await check('arb', 'AA:BB:CC:00:00:04', { secure_version: 2 })).body).toMatchObject({ status: 'no_update', update_available: false });
    expect((await check('arb', 'AA:BB:CC:00:00:05', { secure_version: 1 })).body.status).toBe('update_available');
    // The device's secure_version is remembered: a later check without it is still protected.
    expect((await check('arb', 'AA:BB:CC:00:00:04')).body.status).toBe('no_update');

    const draft = await publishRelease(t.platform, { product: 'arb', version: '2.0.0', files: { 'app.bin': image('2.0.0', { secureVersion: 2 }) } });
    expect(draft.warnings).toEqual([]); // a draft warns when it is released
    const released = await t.api.post(`/admin/v1/products/arb/firmware/${draft.build_number}/release`);
    expect(released.status).toBe(200);
    expect(released.body.warnings).toEqual([expect.stringMatching(/raises secure_version to 2 \(released builds so far: at most 1\).*eFuse for good/)]);
    expect((await t.api.post(`/admin/v1/products/arb/firmware/${v1.build_number}/release`)).body.warnings).toEqual([]);
  });
});
