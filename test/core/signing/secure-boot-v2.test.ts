import { createHash } from 'node:crypto';
import { checkImageStructure } from '../../../lambdas/core/esp-image';
import {
  createSignatureScan,
  judgeSignature,
  parseSigningKey,
  type RegisteredSigningKey,
  type SbV2Chip,
  type SignaturePolicy,
} from '../../../lambdas/core/signing';
import { buildEspImage } from '../../fixtures/esp-image';
import { chunks, p256Key, padToSector, refreshBlockCrc, rsaBlock, rsaKey, sbv2Digest, sbv2Sign, sector, type TestKey } from '../../fixtures/signing';

let rsaActive: TestKey;
let rsaRevoked: TestKey;
let rsaStranger: TestKey;
let ecActive: TestKey;
let ecRevoked: TestKey;
let ecStranger: TestKey;
let keys: RegisteredSigningKey[];

beforeAll(() => {
  [rsaActive, rsaRevoked, rsaStranger] = [rsaKey(3072), rsaKey(3072), rsaKey(3072)];
  [ecActive, ecRevoked, ecStranger] = [p256Key(), p256Key(), p256Key()];
  keys = [
    { ...parseSigningKey(rsaActive.publicKeyPem), revoked: false },
    { ...parseSigningKey(rsaRevoked.publicKeyPem), revoked: true },
    { ...parseSigningKey(ecActive.publicKeyPem), revoked: false },
    { ...parseSigningKey(ecRevoked.publicKeyPem), revoked: true },
  ];
});

const image = buildEspImage({ chip: 'esp32c6', size: 20000 });

const judge = (file: Uint8Array, opts: { chip?: SbV2Chip; policy?: SignaturePolicy; chunk?: number } = {}) => {
  const scan = createSignatureScan({ size: file.length, keys });
  for (const c of chunks(file, opts.chunk ?? 65536)) scan.update(c);
  return judgeSignature(scan.finish(), { policy: opts.policy ?? 'required', chip: opts.chip ?? 'esp32c6' });
};
const codeOf = (j: ReturnType<typeof judge>) => (j.ok ? 'ok' : j.code);
/** Block `index` starts this many bytes before the end of a signed file. */
const blockAt = (file: Buffer, index: number) => file.length - 4096 + index * 1216;

describe('Secure Boot v2 signature sector', () => {
  it('expect accepted with form, key id and the padded image range recorded when an RSA-3072 block is by an active key', () => {
    const file = sbv2Sign(image, [{ key: rsaActive, kind: 'rsa' }]);
    const j = judge(file);
    expect(j).toEqual({
      ok: true,
      verification: { form: 'secure_boot_v2', keyIds: [sbv2Digest(rsaActive, 'rsa')], algorithm: 'rsa-3072', imageOffset: 0, imageSize: 20480 },
    });
    if (!j.ok) return;
    const app = file.subarray(j.verification.imageOffset, j.verification.imageOffset + j.verification.imageSize);
    expect(checkImageStructure(app, { sha256: (b) => createHash('sha256').update(b).digest() }).ok).toBe(true);
  });

  it('expect accepted when an ECDSA P-256 block is by an active key on an ECDSA chip', () => {
    const file = sbv2Sign(image, [{ key: ecActive, kind: 'ecdsa' }]);
    for (const chip of ['esp32c6', 'esp32c2', 'esp32h2', 'esp32p4'] as const) {
      expect(judge(file, { chip })).toEqual({
        ok: true,
        verification: { form: 'secure_boot_v2', keyIds: [sbv2Digest(ecActive, 'ecdsa')], algorithm: 'ecdsa-p256', imageOffset: 0, imageSize: 20480 },
      });
    }
  });

  it('expect accepted when the image is already sector-aligned (no padding)', () => {
    const aligned = buildEspImage({ chip: 'esp32c6', size: 16384 });
    expect(padToSector(aligned).length).toBe(16384);
    expect(codeOf(judge(sbv2Sign(aligned, [{ key: rsaActive, kind: 'rsa' }])))).toBe('ok');
  });

  it('expect bad_signature when an image byte is changed after signing', () => {
    for (const kind of ['rsa', 'ecdsa'] as const) {
      const file = sbv2Sign(image, [{ key: kind === 'rsa' ? rsaActive : ecActive, kind }]);
      file[5000] ^= 0x01;
      const j = judge(file);
      expect(codeOf(j)).toBe('bad_signature');
      expect(j.ok || j.reason).toMatch(/altered/);
    }
  });

  it('expect bad_signature when a signature byte is changed (and the CRC recomputed)', () => {
    const rsa = sbv2Sign(image, [{ key: rsaActive, kind: 'rsa' }]);
    rsa[blockAt(rsa, 0) + 812 + 100] ^= 0x40;
    expect(codeOf(judge(refreshBlockCrc(rsa, 0)))).toBe('bad_signature');
    const ec = sbv2Sign(image, [{ key: ecActive, kind: 'ecdsa' }]);
    ec[blockAt(ec, 0) + 101 + 7] ^= 0x40;
    expect(codeOf(judge(refreshBlockCrc(ec, 0)))).toBe('bad_signature');
  });

  it("expect bad_signature when the block's image digest is rewritten to match a changed image", () => {
    // The digest field is not trusted by itself: PSS binds the digest the signer hashed.
    const padded = padToSector(image);
    const changed = Buffer.from(padded);
    changed[3000] ^= 0xff;
    const block = rsaBlock(padded, rsaActive, { digest: createHash('sha256').update(changed).digest() });
    expect(codeOf(judge(Buffer.concat([changed, sector([block])])))).toBe('bad_signature');
  });

  it("expect bad_signature when a block embeds a registered key's material but is signed by another key", () => {
    const file = sbv2Sign(image, [{ key: rsaStranger, kind: 'rsa' }]);
    const genuine = rsaBlock(padToSector(image), rsaActive);
    genuine.copy(file, blockAt(file, 0) + 36, 36, 812);
    expect(codeOf(judge(refreshBlockCrc(file, 0)))).toBe('bad_signature');
  });

  it('expect unknown_signing_key when the only block is by an unregistered key', () => {
    for (const signer of [
      { key: rsaStranger, kind: 'rsa' as const },
      { key: ecStranger, kind: 'ecdsa' as const },
    ]) {
      const j = judge(sbv2Sign(image, [signer]));
      expect(codeOf(j)).toBe('unknown_signing_key');
      expect(j.ok || j.reason).toContain(sbv2Digest(signer.key, signer.kind));
    }
  });

  it('expect revoked_signing_key when every block is by a revoked key', () => {
    expect(codeOf(judge(sbv2Sign(image, [{ key: rsaRevoked, kind: 'rsa' }])))).toBe('revoked_signing_key');
    expect(codeOf(judge(sbv2Sign(image, [{ key: ecRevoked, kind: 'ecdsa' }])))).toBe('revoked_signing_key');
  });

  it('expect accepted with only the active key credited when a revoked and an active key both sign (key rotation)', () => {
    const file = sbv2Sign(image, [
      { key: rsaRevoked, kind: 'rsa' },
      { key: rsaActive, kind: 'rsa' },
      { key: rsaStranger, kind: 'rsa' },
    ]);
    const j = judge(file);
    expect(j.ok && j.verification.keyIds).toEqual([sbv2Digest(rsaActive, 'rsa')]);
  });

  it('expect unknown_signing_key (or revoked_signing_key) on ESP32, whose bootloader reads only the first block, when only a later block is by an active key', () => {
    const file = sbv2Sign(image, [
      { key: rsaStranger, kind: 'rsa' },
      { key: rsaActive, kind: 'rsa' },
    ]);
    const j = judge(file, { chip: 'esp32' });
    expect(codeOf(j)).toBe('unknown_signing_key');
    expect(j.ok || j.reason).toMatch(/checks only the first 1 block/);
    expect(codeOf(judge(file, { chip: 'esp32s3' }))).toBe('ok');
    const first = sbv2Sign(image, [
      { key: rsaActive, kind: 'rsa' },
      { key: rsaStranger, kind: 'rsa' },
    ]);
    expect(codeOf(judge(first, { chip: 'esp32' }))).toBe('ok');
    const rotated = sbv2Sign(image, [
      { key: rsaRevoked, kind: 'rsa' },
      { key: rsaActive, kind: 'rsa' },
    ]);
    expect(codeOf(judge(rotated, { chip: 'esp32' }))).toBe('revoked_signing_key');
  });

  it('expect accepted with both key ids when RSA and ECDSA blocks by active keys sign on a chip that boots both', () => {
    const file = sbv2Sign(image, [
      { key: ecActive, kind: 'ecdsa' },
      { key: rsaActive, kind: 'rsa' },
    ]);
    const j = judge(file, { chip: 'esp32h2' });
    expect(j.ok && j.verification.keyIds).toEqual([sbv2Digest(ecActive, 'ecdsa'), sbv2Digest(rsaActive, 'rsa')]);
  });

  it('expect malformed_signature when the file ends inside the signature sector', () => {
    const file = sbv2Sign(image, [{ key: rsaActive, kind: 'rsa' }]);
    for (const cut of [file.length - 1, file.length - 100, blockAt(file, 0) + 600, blockAt(file, 0) + 4]) {
      const j = judge(file.subarray(0, cut));
      expect(codeOf(j)).toBe('malformed_signature');
      expect(j.ok || j.reason).toMatch(/truncated/);
    }
  });

  it('expect unsigned, not a truncated sector, when an unsigned image merely has 0xE7 0x02 at a sector boundary', () => {
    const file = Buffer.from(image);
    file.set([0xe7, 0x02, 0x5a, 0x11], 16384);
    expect(codeOf(judge(file))).toBe('unsigned');
  });

  it('expect malformed_signature when a block CRC is wrong', () => {
    const file = sbv2Sign(image, [{ key: rsaActive, kind: 'rsa' }]);
    file[blockAt(file, 0) + 1196] ^= 0x01;
    const j = judge(file);
    expect(codeOf(j)).toBe('malformed_signature');
    expect(j.ok || j.reason).toMatch(/CRC32/);
  });

  it('expect malformed_signature when a second block has the magic but a bad CRC, even if the first verifies', () => {
    const file = sbv2Sign(image, [
      { key: rsaActive, kind: 'rsa' },
      { key: ecActive, kind: 'ecdsa' },
    ]);
    file[blockAt(file, 1) + 50] ^= 0x01;
    expect(codeOf(judge(file))).toBe('malformed_signature');
  });

  it('expect malformed_signature when a later block has an unknown version', () => {
    const file = sbv2Sign(image, [{ key: rsaActive, kind: 'rsa' }]);
    file[blockAt(file, 1)] = 0xe7;
    file[blockAt(file, 1) + 1] = 0x09;
    expect(codeOf(judge(file))).toBe('malformed_signature');
  });

  it("expect malformed_signature naming the chip when the block algorithm is one the product's chip cannot boot", () => {
    const ec = judge(sbv2Sign(image, [{ key: ecActive, kind: 'ecdsa' }]), { chip: 'esp32' });
    expect(codeOf(ec)).toBe('malformed_signature');
    expect(ec.ok || ec.reason).toMatch(/esp32 bootloader verifies only rsa-3072/);
    for (const chip of ['esp32s2', 'esp32s3', 'esp32c3'] as const) {
      expect(codeOf(judge(sbv2Sign(image, [{ key: ecActive, kind: 'ecdsa' }]), { chip }))).toBe('malformed_signature');
    }
    const rsa = judge(sbv2Sign(image, [{ key: rsaActive, kind: 'rsa' }]), { chip: 'esp32c2' });
    expect(codeOf(rsa)).toBe('malformed_signature');
    expect(rsa.ok || rsa.reason).toMatch(/esp32c2 bootloader verifies only ecdsa-p256/);
  });

  it('expect unsigned under required, and form none under optional, when the image has no signature sector', () => {
    for (const file of [image, padToSector(image)]) {
      expect(codeOf(judge(file))).toBe('unsigned');
      expect(judge(file, { policy: 'optional' })).toEqual({
        ok: true,
        verification: { form: 'none', keyIds: [], algorithm: null, imageOffset: 0, imageSize: file.length },
      });
    }
  });

  it('expect optional still rejects a bad signature', () => {
    const file = sbv2Sign(image, [{ key: rsaActive, kind: 'rsa' }]);
    file[100] ^= 1;
    expect(codeOf(judge(file, { policy: 'optional' }))).toBe('bad_signature');
  });

  it('expect off to ignore even a broken sector and report image offset 0', () => {
    const file = sbv2Sign(image, [{ key: rsaStranger, kind: 'rsa' }]);
    file[blockAt(file, 0) + 1196] ^= 1;
    expect(judge(file, { policy: 'off' })).toEqual({
      ok: true,
      verification: { form: 'none', keyIds: [], algorithm: null, imageOffset: 0, imageSize: file.length },
    });
  });

  it('expect the same verdict when fed in 1-byte and 7-byte chunks', () => {
    const good = sbv2Sign(image, [
      { key: ecActive, kind: 'ecdsa' },
      { key: rsaActive, kind: 'rsa' },
    ]);
    const bad = Buffer.from(good);
    bad[4097] ^= 2;
    for (const file of [good, bad]) {
      const whole = judge(file);
      expect(judge(file, { chunk: 1 })).toEqual(whole);
      expect(judge(file, { chunk: 7 })).toEqual(whole);
    }
    expect(codeOf(judge(good, { chunk: 1 }))).toBe('ok');
    expect(codeOf(judge(bad, { chunk: 7 }))).toBe('bad_signature');
  });
});
