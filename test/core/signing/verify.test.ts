import { createSignatureScan, judgeSignature, SBV2_CHIP_ALGORITHMS, type SbV2BlockFinding, type SignatureFindings } from '../../../lambdas/core/signing';

const A = 'a'.repeat(64);
const R = 'b'.repeat(64);
const U = 'c'.repeat(64);
const block = (index: number, keyId: string, over: Partial<Extract<SbV2BlockFinding, { status: 'parsed' }>> = {}): SbV2BlockFinding => ({
  index,
  status: 'parsed',
  algorithm: 'rsa-3072',
  keyId,
  digestMatches: true,
  key: keyId === A ? 'active' : keyId === R ? 'revoked' : 'unregistered',
  signatureValid: keyId !== U,
  ...over,
});
const sb = (...blocks: SbV2BlockFinding[]): SignatureFindings => ({ size: 8192, secureBootV2: { sectorOffset: 4096, blocks } });
const codeOf = (f: SignatureFindings, policy: 'off' | 'optional' | 'required' = 'required') => {
  const j = judgeSignature(f, { policy, chip: 'esp32s3' });
  return j.ok ? j.verification.form : j.code;
};

describe('judgeSignature', () => {
  it('expect form none with the whole file as image when the policy is off, whatever was found', () => {
    expect(judgeSignature(sb(block(0, U, { digestMatches: false })), { policy: 'off', chip: 'esp32' })).toEqual({
      ok: true,
      verification: { form: 'none', keyIds: [], algorithm: null, imageOffset: 0, imageSize: 8192 },
    });
  });

  it('expect unsigned under required and form none under optional when nothing was found', () => {
    expect(codeOf({ size: 10 })).toBe('unsigned');
    expect(codeOf({ size: 10 }, 'optional')).toBe('none');
  });

  it('expect accepted when a revoked key signs beside an active one (rotation), revoked_signing_key when only revoked keys do', () => {
    expect(codeOf(sb(block(0, R), block(1, A)))).toBe('secure_boot_v2');
    expect(codeOf(sb(block(0, R)))).toBe('revoked_signing_key');
    expect(codeOf(sb(block(0, R), block(1, U)))).toBe('revoked_signing_key');
  });

  it("expect bad_signature when any registered key's block fails, even beside a valid one", () => {
    expect(codeOf(sb(block(0, A), block(1, R, { signatureValid: false })))).toBe('bad_signature');
    expect(codeOf(sb(block(0, A), block(1, U, { digestMatches: false })))).toBe('bad_signature');
  });

  it('expect an unregistered key beside an active one to be tolerated (the device ignores a block it has no digest for)', () => {
    expect(codeOf(sb(block(0, U), block(1, A)))).toBe('secure_boot_v2');
    expect(codeOf(sb(block(0, U)))).toBe('unknown_signing_key');
  });

  it('expect malformed_signature first when any block is malformed', () => {
    expect(codeOf(sb(block(0, A), { index: 1, status: 'malformed', reason: 'signature block 1: bad' }))).toBe('malformed_signature');
    expect(codeOf({ size: 5000, secureBootV2: { sectorOffset: 4096, truncated: 'cut', blocks: [] } })).toBe('malformed_signature');
  });

  it('expect the esp32FOTA image offset reported when an esp32FOTA prefix and a detached signature both verify', () => {
    const j = judgeSignature(
      {
        size: 1512,
        esp32fota: { imageOffset: 512, signers: [{ keyId: A, revoked: false, digestMatches: true }] },
        detached: { keyId: R, status: 'checked', revoked: false, signatureValid: true },
      },
      { policy: 'required', chip: 'esp32' },
    );
    expect(j).toEqual({ ok: true, verification: { form: 'esp32fota', keyIds: [A], algorithm: 'rsa-4096', imageOffset: 512, imageSize: 1000 } });
  });
});

describe('SBV2_CHIP_ALGORITHMS', () => {
  it('expect the ROM capabilities of soc_caps.h when looked up per chip', () => {
    expect(SBV2_CHIP_ALGORITHMS).toEqual({
      esp32: ['rsa-3072'],
      esp32s2: ['rsa-3072'],
      esp32s3: ['rsa-3072'],
      esp32c3: ['rsa-3072'],
      esp32c2: ['ecdsa-p256'],
      esp32c6: ['rsa-3072', 'ecdsa-p256'],
      esp32h2: ['rsa-3072', 'ecdsa-p256'],
      esp32p4: ['rsa-3072', 'ecdsa-p256'],
    });
  });
});

describe('createSignatureScan', () => {
  it('expect an error when fed more or fewer bytes than the announced size, or used after finish', () => {
    const over = createSignatureScan({ size: 3, keys: [] });
    expect(() => over.update(new Uint8Array(4))).toThrow(/more than the announced 3/);
    const under = createSignatureScan({ size: 3, keys: [] });
    under.update(new Uint8Array(2));
    expect(() => under.finish()).toThrow(/received 2 of the announced 3/);
    const done = createSignatureScan({ size: 0, keys: [] });
    expect(done.finish()).toEqual({ size: 0 });
    expect(() => done.update(new Uint8Array(0))).toThrow(/finished/);
  });

  it('expect empty chunks to change nothing', () => {
    const s = createSignatureScan({ size: 2, keys: [] });
    s.update(new Uint8Array(0));
    s.update(new Uint8Array([0xe9, 0]));
    s.update(new Uint8Array(0));
    expect(s.finish()).toEqual({ size: 2 });
  });
});
