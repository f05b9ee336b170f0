/**
 * `--key` / `--sign-key` of `otactl sign` and `otactl publish`: a P-256 private key PEM file, or
 * `kms:<key ARN>` for an AWS KMS ECC_NIST_P256 key (CI reaches it through OIDC; the private key
 * never leaves KMS). Either makes the detached signature a manifest takes: ECDSA P-256 over the
 * SHA-256 of the file, DER, base64 — what `openssl dgst -sha256 -sign` makes.
 */
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KMSClient } from '@aws-sdk/client-kms';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { parseSigningKey } from '../../lambdas/core/signing';
import { KmsPlatformSigner } from '../../lambdas/shared/platform-signer';
import { CliError, UsageError } from './errors';

export interface BuildSigner {
  /** SHA-256 of the public key (the id `otactl key add` registers it under). */
  readonly keyId: string;
  /** Base64 DER ECDSA P-256 signature over SHA-256 of `bytes`. */
  sign(bytes: Uint8Array): Promise<string>;
}

const KMS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)\/.+$/;

export async function buildSignerFor(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<BuildSigner> {
  if (spec.startsWith('kms:')) {
    const arn = spec.slice(4);
    const m = KMS_ARN.exec(arn);
    if (!m) throw new UsageError(`--key kms: needs a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got "${arn}"`);
    const kms = new KMSClient({ region: m[1], credentials: fromNodeProviderChain({ ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}) }) });
    const signer = new KmsPlatformSigner(arn, kms);
    let publicKeyPem: string;
    try {
      publicKeyPem = await signer.publicKeyPem();
    } catch (e) {
      throw new CliError(`cannot read the public key of ${arn}: ${(e as Error).message}`);
    }
    const { keyId } = parseSigningKey(publicKeyPem);
    return {
      keyId,
      async sign(bytes) {
        const digest = createHash('sha256').update(bytes).digest();
        return (await signer.sign({ digest })).toString('base64');
      },
    };
  }
  let pem: string;
  try {
    pem = readFileSync(spec, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read signing key ${spec}: ${(e as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UsageError(`${spec} is not a private key PEM (a P-256 key: openssl ecparam -name prime256v1 -genkey -noout -out key.pem)`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new UsageError(`${spec}: detached signatures are ECDSA P-256; this is a ${key.asymmetricKeyType} key`);
  }
  const { keyId } = parseSigningKey(createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString());
  return { keyId, sign: async (bytes) => sign('sha256', bytes, key).toString('base64') };
}
