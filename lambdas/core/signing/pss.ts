/**
 * Signature checks over a digest computed once during the streamed pass. Node's `crypto.verify`
 * always hashes its input again, so it cannot take the SHA-256 the bootloader signs
 * (espsecure signs with `utils.Prehashed`). For RSA we therefore open the signature with
 * `publicDecrypt(RSA_NO_PADDING)` and check the encoding ourselves (RFC 8017 §9.1.2 EMSA-PSS-VERIFY,
 * §9.2 EMSA-PKCS1-v1_5 by re-encoding and comparing): one hash for any number of candidate keys,
 * instead of one 6.5 MB hash per key. ECDSA has no such opening, so ECDSA keys get a streamed
 * `createVerify('sha256')` each (see scan.ts).
 */
import { constants, createHash, publicDecrypt, timingSafeEqual } from 'node:crypto';

const H_LEN = 32;

/** The RSA primitive s^e mod n, or undefined when s ≥ n or the key cannot be used. */
export function rsaOpen(publicKeyPem: string, signatureBigEndian: Uint8Array): Buffer | undefined {
  try {
    return publicDecrypt({ key: publicKeyPem, padding: constants.RSA_NO_PADDING }, signatureBigEndian);
  } catch {
    return undefined;
  }
}

const mgf1Sha256 = (seed: Uint8Array, length: number): Buffer => {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * H_LEN < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash('sha256').update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
};

/** EMSA-PSS-VERIFY with SHA-256, MGF1-SHA-256 and a 32-byte salt (Secure Boot v2's RSA-PSS parameters). */
export function pssSha256Verifies(opened: Uint8Array, mHash: Uint8Array, modBits: number, saltLength = 32): boolean {
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  // The primitive's output is k bytes; with modBits a multiple of 8 the leading byte is the zero above emBits.
  const em = opened.length > emLen ? opened.subarray(opened.length - emLen) : opened;
  if (opened.length > emLen && opened.subarray(0, opened.length - emLen).some((b) => b !== 0)) return false;
  if (em.length !== emLen || emLen < H_LEN + saltLength + 2 || em[emLen - 1] !== 0xbc) return false;
  const topBits = 8 * emLen - emBits;
  const topMask = 0xff >> topBits;
  if ((em[0] & ~topMask & 0xff) !== 0) return false;
  const maskedDb = em.subarray(0, emLen - H_LEN - 1);
  const h = em.subarray(emLen - H_LEN - 1, emLen - 1);
  const db = mgf1Sha256(h, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] ^= maskedDb[i];
  db[0] &= topMask;
  const psLen = emLen - H_LEN - saltLength - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - saltLength);
  const hPrime = createHash('sha256').update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(h, hPrime);
}

/** DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export type Pkcs1Outcome = 'valid' | 'other_digest' | 'not_this_key';

/**
 * EMSA-PKCS1-v1_5 with SHA-256. `other_digest`: the key made this signature, but over other bytes
 * (the image was altered); `not_this_key`: the opened block is noise, i.e. another key signed it or
 * the signature bytes were altered (RSA cannot tell those apart).
 */
export function pkcs1Sha256Check(opened: Uint8Array | undefined, digest: Uint8Array): Pkcs1Outcome {
  if (!opened) return 'not_this_key';
  const k = opened.length;
  const tLen = SHA256_DIGEST_INFO.length + H_LEN;
  if (k < tLen + 11) return 'not_this_key';
  const expectedHead = Buffer.concat([Buffer.from([0x00, 0x01]), Buffer.alloc(k - tLen - 3, 0xff), Buffer.from([0x00]), SHA256_DIGEST_INFO]);
  if (!timingSafeEqual(Buffer.from(opened.subarray(0, expectedHead.length)), expectedHead)) return 'not_this_key';
  return timingSafeEqual(Buffer.from(opened.subarray(expectedHead.length)), Buffer.from(digest)) ? 'valid' : 'other_digest';
}
