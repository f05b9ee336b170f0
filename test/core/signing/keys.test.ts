import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { parseSigningKey, SigningKeyError } from '../../../lambdas/core/signing';
import { montgomeryMPrime, p256Key, rsaKey, sbv2Digest, type TestKey } from '../../fixtures/signing';

/**
 * Test vectors from espressif/esptool `test/secure_images/` (at commit 05f14211): public keys and the
 * digests `espsecure digest-sbv2-public-key` wrote for them (rsa_public_key_digest.bin,
 * ecdsa256_public_key_digest_v2.bin, the latter for the public half of ecdsa256_secure_boot_signing_key_v2.pem).
 */
const ESPSECURE_RSA_PUBKEY = `-----BEGIN PUBLIC KEY-----
MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAtvnS7JPl5hGfA0Iks2lQ
m/L+eiw7pcAArH2IKGqryKdGCtiwuOLjZkUpNR/dZhSr/7JGvjUw+2elLY7D1XXX
w3pufjVH7AePmo4EXUS4U1g6xDuctj3hj3cOarpKo2+dEYrAwY13Bx28tOW0z2uK
xQhNX3zHP9ssiTsLQ+6E+MjEvKjYcvAFtadXYtYTUZWhxuh8W2vnhOiR3zyJQL98
4iAl08G/T+HI/3JX3vGSFEnOP/ypqz7wQEMJwOEjVpsgaStf5N1JbSOSKp7r/aOM
LQHnYHkfjWSNkX1v0QJfXl7iwtB8XVxRPftY4fdANrGTpQnUOogVo4q6mI80qJ5O
uWfI+gdkxvMVnbmnNp1HtTslPGfBbF+XfQG23xEFvnYTUVvmmNX5QuHY2Vy6KpSS
tQmf4FGZXjQdGzxavFfQjdiBOhxi5DEixcFpwlS1VcHRWb1G2yp15q3ukWrEkh9X
4vV6h05fmdvxOk9QhHTr0XCIzC4GmaUBM/UYvzGjlfwrAgMBAAE=
-----END PUBLIC KEY-----
`;
const ESPSECURE_RSA_DIGEST = 'cb2791a371b0c0322bf7370478ba0962224cab1cf2287879e429673e7da84463';
const ESPSECURE_P256_PUBKEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDixPrWrLYPuiolKmwJYRDDBDMHp+
uOctcIOkiJCITukaV/ZBsyzjNtOob4eat2+WZtnH6icto557WqjESHcEkA==
-----END PUBLIC KEY-----
`;
const ESPSECURE_P256_DIGEST = 'bf0f6af68bd36d8b53b3daa933f60a04901b65877e35ea57da735e99b271a744';

let rsa3072: TestKey;
let rsa4096: TestKey;
let p256: TestKey;

beforeAll(() => {
  rsa3072 = rsaKey(3072);
  rsa4096 = rsaKey(4096);
  p256 = p256Key();
});

const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof SigningKeyError ? e.code : `not a SigningKeyError: ${String(e)}`;
  }
  return undefined;
};

describe('parseSigningKey', () => {
  it('expect rsa-3072 with the espsecure eFuse digest as key id when given an RSA-3072 public key', () => {
    const k = parseSigningKey(rsa3072.publicKeyPem);
    expect(k.algorithm).toBe('rsa-3072');
    expect(k.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(k.keyId).toBe(sbv2Digest(rsa3072, 'rsa'));
    expect(k.publicKeyPem).toContain('-----BEGIN PUBLIC KEY-----');
  });

  it('expect the key ids espsecure digest-sbv2-public-key computed when given the esptool test keys', () => {
    expect(parseSigningKey(ESPSECURE_RSA_PUBKEY)).toMatchObject({ algorithm: 'rsa-3072', keyId: ESPSECURE_RSA_DIGEST });
    expect(parseSigningKey(ESPSECURE_P256_PUBKEY)).toMatchObject({ algorithm: 'ecdsa-p256', keyId: ESPSECURE_P256_DIGEST });
  });

  it("expect the fixture's Montgomery constants to satisfy n·m' ≡ −1 (mod 2^32) when checked with BigInt", () => {
    const n = BigInt('0x' + Buffer.from(rsa3072.publicKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex'));
    expect((n * montgomeryMPrime(n) + 1n) % (1n << 32n)).toBe(0n);
  });

  it('expect the same key id when the RSA-3072 key comes as a PKCS#1 RSA PUBLIC KEY PEM', () => {
    const pkcs1 = rsa3072.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    const k = parseSigningKey(pkcs1);
    expect(k.keyId).toBe(sbv2Digest(rsa3072, 'rsa'));
    expect(k.publicKeyPem).toBe(rsa3072.publicKeyPem);
  });

  it('expect ecdsa-p256 with the espsecure eFuse digest (curve id ‖ x LE ‖ y LE) when given a P-256 public key', () => {
    const k = parseSigningKey(p256.publicKeyPem);
    expect(k.algorithm).toBe('ecdsa-p256');
    expect(k.keyId).toBe(sbv2Digest(p256, 'ecdsa'));
  });

  it('expect rsa-4096 keyed by the SHA-256 of its SPKI DER when given an RSA-4096 public key', () => {
    const k = parseSigningKey(rsa4096.publicKeyPem);
    expect(k.algorithm).toBe('rsa-4096');
    const der = rsa4096.publicKey.export({ type: 'spki', format: 'der' });
    expect(k.keyId).toBe(createHash('sha256').update(der).digest('hex'));
  });

  it('expect private_signing_key when given a private key (PKCS#8, PKCS#1 or SEC1)', () => {
    expect(codeOf(() => parseSigningKey(pkcs8(p256.privateKey)))).toBe('private_signing_key');
    expect(codeOf(() => parseSigningKey(rsa3072.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()))).toBe('private_signing_key');
    expect(codeOf(() => parseSigningKey(p256.privateKey.export({ type: 'sec1', format: 'pem' }).toString()))).toBe('private_signing_key');
    expect(() => parseSigningKey(pkcs8(p256.privateKey))).toThrow(/public key/);
  });

  it('expect unsupported_signing_key when given RSA-2048, P-384 or Ed25519 keys', () => {
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
    expect(codeOf(() => parseSigningKey(rsaKey(2048).publicKeyPem))).toBe('unsupported_signing_key');
    expect(codeOf(() => parseSigningKey(spki(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey)))).toBe('unsupported_signing_key');
    expect(codeOf(() => parseSigningKey(spki(generateKeyPairSync('ed25519').publicKey)))).toBe('unsupported_signing_key');
  });

  it('expect invalid_signing_key when given something that is not a PEM public key', () => {
    expect(codeOf(() => parseSigningKey('hello'))).toBe('invalid_signing_key');
    expect(codeOf(() => parseSigningKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'))).toBe('invalid_signing_key');
  });
});
