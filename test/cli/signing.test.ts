/**
 * otactl's signing commands against the local platform: `key add|list|revoke`, `product put
 * --signing`, `sign` (the .sig openssl verifies) and `publish --sign-key` (accepted as a detached
 * signature under `required`), and the secure_version warning `firmware release` prints.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEspImage } from '../fixtures/esp-image';
import { otactlOn } from '../support/otactl';
import { startTestPlatform, type TestPlatform } from '../support/platform';

jest.setTimeout(60_000);
let t: TestPlatform;
const tmp = mkdtempSync(join(tmpdir(), 'otactl-signing-'));
const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privatePem = join(tmp, 'ota-signing.pem');
const publicPem = join(tmp, 'ota-signing.pub.pem');

beforeAll(async () => {
  t = await startTestPlatform();
  writeFileSync(privatePem, keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicPem, keyPair.publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(async () => {
  await t?.platform.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const otactl = (args: string[]) => otactlOn(t.platform, args);
const folder = (name: string, version: string, secureVersion = 0) => {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.bin'), buildEspImage({ chip: 'esp32s3', version, fill: 3, secureVersion }));
  return dir;
};

describe('otactl key / sign / publish --sign-key', () => {
  let keyId: string;

  it('expect product put --signing required and key add to register the public key, key list to show it', async () => {
    expect(
      (await otactl(['product', 'put', 'signed', '--chip', 'esp32s3', '--security-mode', 'open', '--firmware-type', 'Signed Board', '--signing', 'required']))
        .out,
    ).toMatch(/signing\s+required/);
    const added = await otactl(['key', 'add', '--product', 'signed', '--file', publicPem, '--name', 'ci', '--json']);
    expect(added.code).toBe(0);
    keyId = added.json().key_id;
    expect(keyId).toMatch(/^[0-9a-f]{64}$/);
    const list = await otactl(['key', 'list', '--product', 'signed']);
    expect(list.out).toContain(keyId);
    expect(list.out).toMatch(/ecdsa-p256\s+active/);
    const priv = await otactl(['key', 'add', '--product', 'signed', '--file', privatePem]);
    expect(priv.code).toBe(1);
    expect(priv.err).toMatch(/private_signing_key/);
  });

  it('expect otactl sign to write a .sig that openssl verifies, naming the registered key id', async () => {
    const file = join(folder('sign-only', '0.9.0'), 'app.bin');
    const r = await otactl(['sign', file, '--key', privatePem]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(keyId);
    const der = join(tmp, 'sig.der');
    writeFileSync(der, Buffer.from(readFileSync(`${file}.sig`, 'utf8').trim(), 'base64'));
    expect(execFileSync('openssl', ['dgst', '-sha256', '-verify', publicPem, '-signature', der, file], { encoding: 'utf8' })).toMatch(/Verified OK/);
    expect((await otactl(['sign', file, '--key', publicPem])).code).toBe(2); // a public key cannot sign: usage error
  });

  it('expect publish --sign-key accepted under `required`, and an unsigned publish rejected as unsigned', async () => {
    const signed = await otactl(['publish', folder('v1', '1.0.0'), '--product', 'signed', '--version', '1.0.0', '--release', '--sign-key', privatePem]);
    expect(signed.code).toBe(0);
    expect(signed.err).toMatch(new RegExp(`signature\\s+detached, key ${keyId}`));
    const manifest = JSON.parse(readFileSync(join(tmp, 'v1', 'manifest.json'), 'utf8'));
    expect(manifest.files[0]).toMatchObject({ name: 'app.bin', key_id: keyId, signature: expect.any(String) });
    const unsigned = await otactl(['publish', folder('v2', '1.1.0'), '--product', 'signed', '--version', '1.1.0']);
    expect(unsigned.code).toBe(1);
    expect(unsigned.out).toMatch(/rejected: unsigned/);
  });

  it('expect firmware release to print the secure_version warning, and key revoke to report paused deployments', async () => {
    const r = await otactl(['publish', folder('v3', '2.0.0', 3), '--product', 'signed', '--version', '2.0.0', '--sign-key', privatePem]);
    const build = r.out.trim();
    const released = await otactl(['firmware', 'release', build, '--product', 'signed']);
    expect(released.code).toBe(0);
    expect(released.err).toMatch(/warning: Build \d+ raises secure_version to 3/);
    expect(released.out).toMatch(/secure version\s+3/);
    expect(released.out).toMatch(/signature\s+detached, ecdsa-p256/);
    expect((await otactl(['deploy', 'create', '--product', 'signed', '--build', build, '--percentage', '100'])).code).toBe(0);
    const revoked = await otactl(['key', 'revoke', keyId, '--product', 'signed']);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toMatch(/state\s+revoked/);
    expect(revoked.out).toMatch(/paused deployments\s+\S+/);
  });
});
