import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSignatureScan,
  judgeSignature,
  parseSigningKey,
  type DetachedSignature,
  type RegisteredSigningKey,
  type SignaturePolicy,
} from '../../../lambdas/core/signing';
import { buildEspImage } from '../../fixtures/esp-image';
import { chunks, detachedSign, p256Key, rsaKey, sbv2Digest, sbv2Sign, type TestKey } from '../../fixtures/signing';

let active: TestKey;
let revoked: TestKey;
let stranger: TestKey;
let rsa3072: TestKey;
let keys: RegisteredSigningKey[];
const id = (k: TestKey) => sbv2Digest(k, 'ecdsa');

beforeAll(() => {
  [active, revoked, stranger, rsa3072] = [p256Key(), p256Key(), p256Key(), rsaKey(3072)];
  keys = [active, revoked, rsa3072].map((k) => ({ ...parseSigningKey(k.publicKeyPem), revoked: k === revoked }));
});

const image = buildEspImage({ chip: 'esp32c3', size: 25000 });

const judge = (
  file: Uint8Array,
  detached: DetachedSignature | undefined,
  opts: { policy?: SignaturePolicy; chunk?: number; chip?: 'esp32c3' | 'esp32c6' } = {},
) => {
  const scan = createSignatureScan({ size: file.length, keys, ...(detached ? { detached } : {}) });
  for (const c of chunks(file, opts.chunk ?? 65536)) scan.update(c);
  return judgeSignature(scan.finish(), { policy: opts.policy ?? 'required', chip: opts.chip ?? 'esp32c3' });
};
const codeOf = (j: ReturnType<typeof judge>) => (j.ok ? 'ok' : j.code);

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) console.warn('openssl binary not found: skipping the openssl cross-checks of detached signatures');
const withOpenssl = hasOpenssl ? it : it.skip;

describe('detached ECDSA P-256 signature', () => {
  it('expect accepted with form and key id recorded when signed by an active key', () => {
    expect(judge(image, { signature: detachedSign(image, active), keyId: id(active) })).toEqual({
      ok: true,
      verification: { form: 'detached', keyIds: [id(active)], algorithm: 'ecdsa-p256', imageOffset: 0, imageSize: image.length },
    });
  });

  withOpenssl('expect openssl dgst -verify to accept our fixture and the scan to accept openssl dgst -sign output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signing-'));
    try {
      const file = join(dir, 'firmware.bin');
      writeFileSync(file, image);
      writeFileSync(join(dir, 'pub.pem'), active.publicKeyPem);
      writeFileSync(join(dir, 'key.pem'), active.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(join(dir, 'sig.der'), Buffer.from(detachedSign(image, active), 'base64'));
      const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.der'), file]).toString();
      expect(out).toMatch(/Verified OK/);
      execFileSync('openssl', ['dgst', '-sha256', '-sign', join(dir, 'key.pem'), '-out', join(dir, 'openssl.der'), file]);
      const signature = readFileSync(join(dir, 'openssl.der')).toString('base64');
      expect(codeOf(judge(image, { signature, keyId: id(active) }))).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('expect bad_signature when an image byte is changed after signing', () => {
    const signature = detachedSign(image, active);
    const file = Buffer.from(image);
    file[24999] ^= 0x80;
    expect(codeOf(judge(file, { signature, keyId: id(active) }))).toBe('bad_signature');
  });

  it('expect bad_signature when a signature byte is changed', () => {
    const der = Buffer.from(detachedSign(image, active), 'base64');
    der[der.length - 3] ^= 0x01;
    expect(codeOf(judge(image, { signature: der.toString('base64'), keyId: id(active) }))).toBe('bad_signature');
  });

  it('expect bad_signature when the signature names one registered key but was made by another', () => {
    expect(codeOf(judge(image, { signature: detachedSign(image, revoked), keyId: id(active) }))).toBe('bad_signature');
  });

  it('expect unknown_signing_key when the key id is not registered', () => {
    expect(codeOf(judge(image, { signature: detachedSign(image, stranger), keyId: id(stranger) }))).toBe('unknown_signing_key');
  });

  it('expect revoked_signing_key when signed by a revoked key', () => {
    expect(codeOf(judge(image, { signature: detachedSign(image, revoked), keyId: id(revoked) }))).toBe('revoked_signing_key');
  });

  it('expect malformed_signature when the key id names an RSA key', () => {
    const j = judge(image, { signature: detachedSign(image, active), keyId: sbv2Digest(rsa3072, 'rsa') });
    expect(codeOf(j)).toBe('malformed_signature');
    expect(j.ok || j.reason).toMatch(/rsa-3072/);
  });

  it('expect malformed_signature when the signature is not base64 DER', () => {
    const der = Buffer.from(detachedSign(image, active), 'base64');
    for (const signature of ['not base64!', '', der.subarray(0, der.length - 5).toString('base64'), Buffer.alloc(64, 1).toString('base64')]) {
      expect(codeOf(judge(image, { signature, keyId: id(active) }))).toBe('malformed_signature');
    }
  });

  it('expect unsigned under required, and form none under optional, when no detached signature is given', () => {
    expect(codeOf(judge(image, undefined))).toBe('unsigned');
    const j = judge(image, undefined, { policy: 'optional' });
    expect(j.ok && j.verification.form).toBe('none');
  });

  it('expect both forms checked, the embedded one reported, when a detached signature accompanies a Secure Boot v2 image', () => {
    const file = sbv2Sign(image, [{ key: rsa3072, kind: 'rsa' }]);
    const good = judge(file, { signature: detachedSign(file, active), keyId: id(active) });
    expect(good.ok && good.verification).toMatchObject({ form: 'secure_boot_v2', keyIds: [sbv2Digest(rsa3072, 'rsa')] });
    expect(codeOf(judge(file, { signature: detachedSign(image, active), keyId: id(active) }))).toBe('bad_signature');
  });

  it('expect the same verdict when fed in 1-byte and 7-byte chunks', () => {
    const good = { signature: detachedSign(image, active), keyId: id(active) };
    const bad = { signature: detachedSign(buildEspImage({ chip: 'esp32c3', size: 25000, fill: 9 }), active), keyId: id(active) };
    for (const d of [good, bad]) {
      const whole = judge(image, d);
      expect(judge(image, d, { chunk: 1 })).toEqual(whole);
      expect(judge(image, d, { chunk: 7 })).toEqual(whole);
    }
    expect(codeOf(judge(image, good, { chunk: 7 }))).toBe('ok');
    expect(codeOf(judge(image, bad, { chunk: 1 }))).toBe('bad_signature');
  });
});
