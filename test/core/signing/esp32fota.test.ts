import { createHash, sign } from 'node:crypto';
import { checkImageStructure, parseEspAppImage } from '../../../lambdas/core/esp-image';
import { createSignatureScan, judgeSignature, parseSigningKey, type RegisteredSigningKey, type SignaturePolicy } from '../../../lambdas/core/signing';
import { buildEspImage } from '../../fixtures/esp-image';
import { chunks, esp32FotaSign, rsaKey, type TestKey } from '../../fixtures/signing';

let active: TestKey;
let revoked: TestKey;
let stranger: TestKey;
let rsa3072: TestKey;
let keys: RegisteredSigningKey[];

beforeAll(() => {
  [active, revoked, stranger, rsa3072] = [rsaKey(4096), rsaKey(4096), rsaKey(4096), rsaKey(3072)];
  keys = [
    { ...parseSigningKey(active.publicKeyPem), revoked: false },
    { ...parseSigningKey(revoked.publicKeyPem), revoked: true },
  ];
});

/** esp32FOTA names RSA-4096 keys by no digest; the platform uses SHA-256 of the SPKI DER. */
const spkiId = (k: TestKey) =>
  createHash('sha256')
    .update(k.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
const image = buildEspImage({ chip: 'esp32', size: 30001 });

const judge = (file: Uint8Array, opts: { policy?: SignaturePolicy; chunk?: number; keys?: RegisteredSigningKey[] } = {}) => {
  const scan = createSignatureScan({ size: file.length, keys: opts.keys ?? keys });
  for (const c of chunks(file, opts.chunk ?? 65536)) scan.update(c);
  return judgeSignature(scan.finish(), { policy: opts.policy ?? 'required', chip: 'esp32' });
};
const codeOf = (j: ReturnType<typeof judge>) => (j.ok ? 'ok' : j.code);

describe('esp32FOTA signed image', () => {
  it('expect accepted with the image at offset 512 recorded when signed by an active RSA-4096 key', () => {
    const file = esp32FotaSign(image, active);
    expect(file.length).toBe(512 + image.length);
    const j = judge(file);
    expect(j).toEqual({
      ok: true,
      verification: { form: 'esp32fota', keyIds: [spkiId(active)], algorithm: 'rsa-4096', imageOffset: 512, imageSize: image.length },
    });
    if (!j.ok) return;
    const app = file.subarray(j.verification.imageOffset);
    expect(parseEspAppImage(app).chip).toBe('esp32');
    expect(checkImageStructure(app, { sha256: (b) => createHash('sha256').update(b).digest() }).ok).toBe(true);
  });

  it('expect bad_signature when an image byte is changed after signing', () => {
    const file = esp32FotaSign(image, active);
    file[512 + 9000] ^= 0x10;
    const j = judge(file);
    expect(codeOf(j)).toBe('bad_signature');
    expect(j.ok || j.reason).toContain(spkiId(active));
  });

  it('expect bad_signature when the file is cut short', () => {
    expect(codeOf(judge(esp32FotaSign(image, active).subarray(0, 512 + 20000)))).toBe('bad_signature');
  });

  it('expect unknown_signing_key when a signature byte is changed (PKCS#1 v1.5 cannot tell that from another key)', () => {
    const file = esp32FotaSign(image, active);
    file[200] ^= 0x01;
    const j = judge(file);
    expect(codeOf(j)).toBe('unknown_signing_key');
    expect(j.ok || j.reason).toMatch(/signature was altered/);
  });

  it('expect unknown_signing_key when signed by an unregistered RSA-4096 key', () => {
    expect(codeOf(judge(esp32FotaSign(image, stranger)))).toBe('unknown_signing_key');
  });

  it('expect revoked_signing_key when signed by a revoked key', () => {
    expect(codeOf(judge(esp32FotaSign(image, revoked)))).toBe('revoked_signing_key');
  });

  it('expect unsigned when the product has no RSA-4096 key, since only such a key makes the 512-byte prefix a signature', () => {
    const only3072 = [{ ...parseSigningKey(rsa3072.publicKeyPem), revoked: false }];
    expect(codeOf(judge(esp32FotaSign(image, active), { keys: only3072 }))).toBe('unsigned');
  });

  it('expect not esp32FOTA when a 384-byte RSA-3072 signature is prepended (the image is not at 512)', () => {
    const file = Buffer.concat([sign('sha256', image, rsa3072.privateKey), image]);
    expect(codeOf(judge(file))).toBe('unsigned');
  });

  it('expect unsigned under required, and form none under optional, when given a plain image', () => {
    expect(codeOf(judge(image))).toBe('unsigned');
    const j = judge(image, { policy: 'optional' });
    expect(j.ok && j.verification).toEqual({ form: 'none', keyIds: [], algorithm: null, imageOffset: 0, imageSize: image.length });
  });

  it('expect the prefix still judged as an esp32FOTA signature when its first byte is 0xE9 (the app descriptor decides)', () => {
    // A real RSA signature starts with 0xE9 only when the modulus does not start lower, so a forged prefix stands in.
    const prefix = Buffer.alloc(512, 0x5a);
    prefix[0] = 0xe9;
    const j = judge(Buffer.concat([prefix, image]));
    expect(codeOf(j)).toBe('unknown_signing_key');
    expect(j.ok || j.reason).toMatch(/esp32FOTA/);
  });

  it('expect off to treat the file as an unsigned image at offset 0', () => {
    expect(judge(esp32FotaSign(image, stranger), { policy: 'off' })).toEqual({
      ok: true,
      verification: { form: 'none', keyIds: [], algorithm: null, imageOffset: 0, imageSize: 512 + image.length },
    });
  });

  it('expect the same verdict when fed in 1-byte and 7-byte chunks', () => {
    const good = esp32FotaSign(image, active);
    const bad = Buffer.from(good);
    bad[511] ^= 4;
    for (const file of [good, bad]) {
      const whole = judge(file);
      expect(judge(file, { chunk: 1 })).toEqual(whole);
      expect(judge(file, { chunk: 7 })).toEqual(whole);
    }
    expect(codeOf(judge(good, { chunk: 1 }))).toBe('ok');
  });
});
