/**
 * The verdict on a scanned upload under a product's signing policy. Pure: all crypto happened in
 * the scan; this decides what the findings mean for a device of the product's chip.
 */
import { chipBootsSbV2Algorithm, SBV2_CHIP_ALGORITHMS, SBV2_CHIP_BLOCKS_CHECKED, type SbV2Chip } from './chips';
import type { SigningAlgorithm } from './keys';
import type { DetachedFinding, Esp32FotaFinding, SbV2Finding, SignatureFindings } from './scan';

export type SignaturePolicy = 'off' | 'optional' | 'required';
export type SignatureForm = 'secure_boot_v2' | 'esp32fota' | 'detached' | 'none';

export interface SignatureVerification {
  readonly form: SignatureForm;
  /** Keys whose signatures verified (active keys only; a revoked key's valid block is tolerated, not credited). */
  readonly keyIds: readonly string[];
  /** null for form 'none'. */
  readonly algorithm: SigningAlgorithm | null;
  /** Where the ESP app image starts in the file (512 behind an esp32FOTA signature, else 0). */
  readonly imageOffset: number;
  /** Bytes of the app image from imageOffset (for Secure Boot v2: the padded image before the signature sector). */
  readonly imageSize: number;
}

export type SignatureRejectCode = 'unsigned' | 'unknown_signing_key' | 'revoked_signing_key' | 'bad_signature' | 'malformed_signature';

export type SignatureJudgement =
  { readonly ok: true; readonly verification: SignatureVerification } | { readonly ok: false; readonly code: SignatureRejectCode; readonly reason: string };

export interface SignaturePolicyContext {
  readonly policy: SignaturePolicy;
  readonly chip: SbV2Chip;
}

type Judged = { ok: true; verification: SignatureVerification } | { ok: false; code: SignatureRejectCode; reason: string };
const reject = (code: SignatureRejectCode, reason: string): Judged => ({ ok: false, code, reason });

/**
 * Secure Boot v2, as the bootloader does it: each block's key must be one whose digest is burnt in
 * eFuse (here: a registered key, matched by id, never trusted because it is embedded), the block's
 * digest must be the image's and the signature must verify. Several blocks exist for key rotation:
 * a block by a revoked key beside a valid block by an active key is accepted (devices that have
 * revoked the old digest use the new block, older devices the old one); only when every verifying
 * block is by a revoked key is the image refused as `revoked_signing_key`. Any malformed block, a
 * digest mismatch or a registered key's signature that fails refuses the whole image, because some
 * device in the fleet might be the one that trusts exactly that block.
 */
function judgeSecureBootV2(sb: SbV2Finding, chip: SbV2Chip): Judged {
  if (sb.truncated) return reject('malformed_signature', `Secure Boot v2 signature sector is truncated: ${sb.truncated}`);
  for (const b of sb.blocks) {
    if (b.status === 'malformed') return reject('malformed_signature', `Secure Boot v2 ${b.reason}`);
    if (!chipBootsSbV2Algorithm(chip, b.algorithm)) {
      return reject(
        'malformed_signature',
        `Secure Boot v2 signature block ${b.index} is ${b.algorithm}, but the ${chip} bootloader verifies only ${(SBV2_CHIP_ALGORITHMS[chip] ?? []).join(', ') || 'no Secure Boot v2 blocks'}`,
      );
    }
  }
  for (const b of sb.blocks) {
    if (b.status !== 'parsed') continue;
    if (!b.digestMatches)
      return reject('bad_signature', `Secure Boot v2 signature block ${b.index} signs a different image digest (the image was altered after signing)`);
    if (b.key !== 'unregistered' && !b.signatureValid) {
      return reject('bad_signature', `Secure Boot v2 signature block ${b.index} does not verify with registered key ${b.keyId}`);
    }
  }
  const parsed = sb.blocks.flatMap((b) => (b.status === 'parsed' ? [b] : []));
  // A valid block the chip never reads (ESP32: any but the first) cannot make the image boot.
  const checked = SBV2_CHIP_BLOCKS_CHECKED[chip] ?? 1;
  const active = parsed.filter((b) => b.key === 'active' && b.signatureValid && b.index < checked);
  const unread = parsed.find((b) => b.key === 'active' && b.signatureValid && b.index >= checked);
  if (active.length === 0 && unread) {
    return reject(
      parsed.some((b) => b.key === 'revoked' && b.index < checked) ? 'revoked_signing_key' : 'unknown_signing_key',
      `Secure Boot v2 block ${unread.index} is by active key ${unread.keyId}, but the ${chip} bootloader checks only the first ${checked} block(s), and none of those is by an active key`,
    );
  }
  if (active.length > 0) {
    return {
      ok: true,
      verification: {
        form: 'secure_boot_v2',
        keyIds: active.map((b) => b.keyId),
        algorithm: active[0].algorithm,
        imageOffset: 0,
        imageSize: sb.sectorOffset,
      },
    };
  }
  const revoked = parsed.filter((b) => b.key === 'revoked');
  if (revoked.length > 0)
    return reject('revoked_signing_key', `Secure Boot v2 image is signed only by revoked key(s) ${revoked.map((b) => b.keyId).join(', ')}`);
  return reject(
    'unknown_signing_key',
    `Secure Boot v2 image is signed by key(s) ${parsed.map((b) => b.keyId).join(', ') || '(none)'}, none registered for this product`,
  );
}

function judgeEsp32Fota(f: Esp32FotaFinding, size: number): Judged {
  const valid = f.signers.filter((s) => s.digestMatches);
  const active = valid.filter((s) => !s.revoked);
  if (active.length > 0) {
    return {
      ok: true,
      verification: {
        form: 'esp32fota',
        keyIds: active.map((s) => s.keyId),
        algorithm: 'rsa-4096',
        imageOffset: f.imageOffset,
        imageSize: size - f.imageOffset,
      },
    };
  }
  if (valid.length > 0) return reject('revoked_signing_key', `esp32FOTA signature is by revoked key ${valid[0].keyId}`);
  if (f.signers.length > 0)
    return reject('bad_signature', `esp32FOTA signature by key ${f.signers[0].keyId} covers other bytes (the image was altered after signing)`);
  // PKCS#1 v1.5 names no key: a signature by an unregistered key and altered signature bytes look the same.
  return reject(
    'unknown_signing_key',
    'esp32FOTA signature does not verify with any registered RSA-4096 key (signed by an unregistered key, or the signature was altered)',
  );
}

function judgeDetached(d: DetachedFinding, size: number): Judged {
  switch (d.status) {
    case 'unregistered':
      return reject('unknown_signing_key', `Detached signature names key ${d.keyId}, which is not registered for this product`);
    case 'wrong_algorithm':
      return reject('malformed_signature', `Detached signatures are ECDSA P-256 (SHA-256), but key ${d.keyId} is ${d.algorithm}`);
    case 'malformed':
      return reject('malformed_signature', `Detached signature: ${d.reason}`);
    case 'checked':
      if (!d.signatureValid) return reject('bad_signature', `Detached signature does not verify with key ${d.keyId} over the ${size}-byte file`);
      if (d.revoked) return reject('revoked_signing_key', `Detached signature is by revoked key ${d.keyId}`);
      return { ok: true, verification: { form: 'detached', keyIds: [d.keyId], algorithm: 'ecdsa-p256', imageOffset: 0, imageSize: size } };
  }
}

/**
 * `off`: signatures are not looked at (an esp32FOTA prefix would then be treated as the image; the
 * caller chose that). `optional`: an unsigned upload passes as form 'none', a signed one must be
 * right. `required`: a valid signature is needed. When an upload carries several forms (e.g. a
 * detached signature over a Secure Boot v2 image) every one must pass; the verification reports
 * the embedded one, which is what the device checks, and the esp32FOTA image offset when present.
 */
export function judgeSignature(findings: SignatureFindings, ctx: SignaturePolicyContext): SignatureJudgement {
  const unsigned: SignatureJudgement = {
    ok: true,
    verification: { form: 'none', keyIds: [], algorithm: null, imageOffset: 0, imageSize: findings.size },
  };
  if (ctx.policy === 'off') return unsigned;
  const judged: Judged[] = [];
  if (findings.secureBootV2) judged.push(judgeSecureBootV2(findings.secureBootV2, ctx.chip));
  if (findings.esp32fota) judged.push(judgeEsp32Fota(findings.esp32fota, findings.size));
  if (findings.detached) judged.push(judgeDetached(findings.detached, findings.size));
  if (judged.length === 0) {
    return ctx.policy === 'required'
      ? {
          ok: false,
          code: 'unsigned',
          reason: 'This product requires signed firmware; the upload has no Secure Boot v2 sector, esp32FOTA signature or detached signature',
        }
      : unsigned;
  }
  const failed = judged.find((j) => !j.ok);
  if (failed) return failed;
  const passed = judged.flatMap((j) => (j.ok ? [j.verification] : []));
  // esp32FOTA first: its offset is where the caller must look for the ESP image.
  return { ok: true, verification: passed.find((v) => v.form === 'esp32fota') ?? passed[0] };
}
