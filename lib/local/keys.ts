/**
 * The local signing key pair: the laptop twin of the CloudFront key group. Generated on first
 * start (RSA-2048, like CloudFront requires), reused afterwards so URLs and devices keep working.
 */
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SigningKeys {
  readonly keyPairId: string;
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** CloudFront public key ids look like `K2JCJMDEHXQW5F`. */
function newKeyPairId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let id = 'K';
  for (let i = 0; i < 13; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

export function generateSigningKeys(): SigningKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    keyPairId: newKeyPairId(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Loads `<dir>/{private.pem,public.pem,key-pair-id}`, creating them on first use. */
export function loadOrCreateSigningKeys(dir: string): SigningKeys {
  const files = { priv: join(dir, 'private.pem'), pub: join(dir, 'public.pem'), id: join(dir, 'key-pair-id') };
  if (existsSync(files.priv) && existsSync(files.pub) && existsSync(files.id)) {
    return {
      keyPairId: readFileSync(files.id, 'utf8').trim(),
      privateKeyPem: readFileSync(files.priv, 'utf8'),
      publicKeyPem: readFileSync(files.pub, 'utf8'),
    };
  }
  const keys = generateSigningKeys();
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.priv, keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(files.pub, keys.publicKeyPem);
  writeFileSync(files.id, `${keys.keyPairId}\n`);
  return keys;
}

/** The local S3's credentials: one random pair per data dir (or per process in memory), never a constant. */
export interface LocalS3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export function generateS3Credentials(): LocalS3Credentials {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = 'AKIALOCAL';
  for (let i = 0; i < 11; i++) id += alphabet[randomInt(alphabet.length)];
  return { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64url') };
}

/** Loads `<dir>/s3-credentials.json` (owner-only), creating it on first use. */
export function loadOrCreateS3Credentials(dir: string): LocalS3Credentials {
  const file = join(dir, 's3-credentials.json');
  if (existsSync(file)) {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalS3Credentials>;
    if (typeof c.accessKeyId === 'string' && typeof c.secretAccessKey === 'string' && c.accessKeyId && c.secretAccessKey) {
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
    }
  }
  const creds = generateS3Credentials();
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(creds)}\n`, { mode: 0o600 });
  return creds;
}

/**
 * The local stand-in for the platform's KMS build-signing key (ECC_NIST_P256): one P-256 key per
 * data dir (`<dir>/platform-signing.pem`, owner-only), or per process in memory.
 */
export function generatePlatformSigningKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function loadOrCreatePlatformSigningKey(dir: string): string {
  const file = join(dir, 'platform-signing.pem');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const pem = generatePlatformSigningKey();
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, pem, { mode: 0o600 });
  return pem;
}
