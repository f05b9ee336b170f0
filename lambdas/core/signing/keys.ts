/**
 * Firmware signing keys as a product registers them: public keys only, in PEM, each named by the
 * key id a device would recognise. For Secure Boot v2 keys that is the SHA-256 the eFuse
 * KEY_PURPOSE_SECURE_BOOT_DIGESTn slot holds (espsecure `digest_sbv2_public_key`), so the id an
 * operator reads from `espefuse summary` matches the one shown here.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { DomainError } from '../errors';

export type SigningAlgorithm = 'rsa-3072' | 'rsa-4096' | 'ecdsa-p256';

export interface SigningKey {
  readonly algorithm: SigningAlgorithm;
  /** 64 lower-case hex digits; see `keyIdOf`. */
  readonly keyId: string;
  /** The public key as SPKI PEM (whatever PEM form was uploaded). */
  readonly publicKeyPem: string;
}

export type SigningKeyErrorCode = 'private_signing_key' | 'invalid_signing_key' | 'unsupported_signing_key';

export class SigningKeyError extends DomainError {
  constructor(
    readonly code: SigningKeyErrorCode,
    message: string,
  ) {
    super('invalid', code, message);
    this.name = 'SigningKeyError';
  }
}

/** Secure Boot v2 curve id for NIST P-256 in an ECDSA signature block (espsecure `CURVE_ID_P256`). */
export const SBV2_CURVE_ID_P256 = 2;

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

const toBigInt = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex')));

/** Unsigned big-endian `n` in exactly `length` bytes, then reversed: the RSA/ECC peripherals read bignums little-endian. */
export function bigIntToLe(n: bigint, length: number): Buffer {
  const hex = n.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError(`${n} does not fit in ${length} bytes`);
  return Buffer.from(hex, 'hex').reverse();
}

/** x with (a·x) ≡ 1 (mod m), extended Euclid. */
const modInverse = (a: bigint, m: bigint): bigint => {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
};

/**
 * The 776 bytes n‖e‖rinv‖m' of an RSA-3072 Secure Boot v2 signature block (offset 36): n (384 B
 * LE), e (u32 LE), rinv = R² mod n with R = 2^3072 (384 B LE) and m' = −n⁻¹ mod 2^32 (u32 LE), the
 * Montgomery constants the ROM's RSA peripheral needs (espsecure `_get_sbv2_rsa_primitives`).
 */
export function sbv2RsaKeyMaterial(n: bigint, e: bigint): Buffer {
  const bits = 3072;
  const rinv = (1n << BigInt(2 * bits)) % n;
  const mPrime = (-modInverse(n, 1n << 32n) + (1n << 32n)) % (1n << 32n);
  const word = (v: bigint) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(Number(v));
    return b;
  };
  return Buffer.concat([bigIntToLe(n, 384), word(e), bigIntToLe(rinv, 384), word(mPrime)]);
}

/** The 65 bytes curve id ‖ x (32 B LE) ‖ y (32 B LE) of a P-256 block (offset 36; espsecure `_microecc_format`). */
export function sbv2EcdsaKeyMaterial(x: Uint8Array, y: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([SBV2_CURVE_ID_P256]), Buffer.from(x).reverse(), Buffer.from(y).reverse()]);
}

/** Key id of the key material as a signature block embeds it (what the bootloader hashes and compares to eFuse). */
export const sbv2KeyId = (material: Uint8Array): string => sha256(material).toString('hex');

const jwkBytes = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');

/**
 * Key id: for RSA-3072 and ECDSA P-256 the Secure Boot v2 eFuse digest of the key; for RSA-4096,
 * which Secure Boot cannot hold (the ROM verifies 3072-bit RSA only) and esp32FOTA names by no
 * digest, the SHA-256 of the SPKI DER, the same as `openssl pkey -pubin -outform DER | sha256sum`.
 */
export function keyIdOf(key: KeyObject, algorithm: SigningAlgorithm): string {
  const jwk = key.export({ format: 'jwk' });
  switch (algorithm) {
    case 'rsa-3072':
      return sbv2KeyId(sbv2RsaKeyMaterial(toBigInt(jwkBytes(jwk.n)), toBigInt(jwkBytes(jwk.e))));
    case 'ecdsa-p256':
      return sbv2KeyId(sbv2EcdsaKeyMaterial(jwkBytes(jwk.x), jwkBytes(jwk.y)));
    case 'rsa-4096':
      return sha256(key.export({ type: 'spki', format: 'der' })).toString('hex');
  }
}

/**
 * Parses an uploaded public key. A private key is refused outright, even though the public half
 * could be derived: the platform must never hold a firmware signing secret, so the uploader
 * learns at once that they sent the wrong file.
 */
export function parseSigningKey(pem: string): SigningKey {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new SigningKeyError(
      'private_signing_key',
      'This is a private key; upload only the public key (e.g. `openssl pkey -in key.pem -pubout` or `espsecure extract-public-key`) and keep the private key offline',
    );
  }
  if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem)) {
    throw new SigningKeyError('invalid_signing_key', 'Expected a PEM public key (-----BEGIN PUBLIC KEY-----)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new SigningKeyError('invalid_signing_key', `Public key PEM does not parse: ${(e as Error).message}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  let algorithm: SigningAlgorithm;
  if (key.asymmetricKeyType === 'rsa') {
    if (details.modulusLength !== 3072 && details.modulusLength !== 4096) {
      throw new SigningKeyError(
        'unsupported_signing_key',
        `RSA-${details.modulusLength} key: Secure Boot v2 verifies RSA-3072 only and esp32FOTA's 512-byte signature needs RSA-4096`,
      );
    }
    // The signature block stores e as a u32.
    if (details.publicExponent === undefined || details.publicExponent > 0xffffffffn) {
      throw new SigningKeyError('unsupported_signing_key', 'RSA public exponent does not fit the 32-bit field of a Secure Boot v2 block');
    }
    algorithm = details.modulusLength === 3072 ? 'rsa-3072' : 'rsa-4096';
  } else if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== 'prime256v1') {
      throw new SigningKeyError('unsupported_signing_key', `EC key on curve ${details.namedCurve}; only NIST P-256 (prime256v1) is supported`);
    }
    algorithm = 'ecdsa-p256';
  } else {
    throw new SigningKeyError('unsupported_signing_key', `${key.asymmetricKeyType} key; firmware signing keys are RSA-3072, RSA-4096 or ECDSA P-256`);
  }
  return { algorithm, keyId: keyIdOf(key, algorithm), publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString() };
}
