/**
 * The local signing key pair: the laptop twin of the CloudFront key group. Generated on first
 * start (RSA-2048, like CloudFront requires), reused afterwards so URLs and devices keep working.
 */
import { generateKeyPairSync, randomInt } from 'node:crypto';
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
