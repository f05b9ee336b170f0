/**
 * The platform's own build-signing key: an AWS KMS asymmetric key (ECC_NIST_P256; the private key
 * never leaves KMS) in the cloud, a P-256 key file under the data dir locally. It makes the detached
 * ECDSA P-256 signature over an app file's SHA-256 that devices verify before booting the image
 * (`openssl dgst -sha256 -verify` accepts it as is).
 *
 * Split by function: the admin function only reads the public key (to register it as one of the
 * product's keys), the upload function only signs (kms:Sign), so each role holds one permission.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { awsRegion, ENV } from './env';
import { clientTimeouts, KMS_BUDGET } from './timeouts';

export interface PlatformSigner {
  /** SPKI PEM of the signing key. */
  publicKeyPem(): Promise<string>;
  /** DER ECDSA signature over SHA-256 of `bytes` (`digest` is that SHA-256: KMS signs the digest, never sees the image). */
  sign(input: { readonly digest: Uint8Array; readonly bytes: Uint8Array }): Promise<Buffer>;
}

const derToPem = (der: Uint8Array): string =>
  createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();

export class KmsPlatformSigner implements PlatformSigner {
  private pem?: Promise<string>;
  constructor(
    private readonly keyArn: string,
    private readonly kms = new KMSClient({ region: awsRegion(), ...clientTimeouts(KMS_BUDGET) }),
  ) {}

  publicKeyPem(): Promise<string> {
    this.pem ??= this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyArn })).then((r) => {
      if (r.KeySpec !== 'ECC_NIST_P256' || !r.PublicKey) throw new Error(`KMS key ${this.keyArn} is ${r.KeySpec}, not ECC_NIST_P256`);
      return derToPem(r.PublicKey);
    });
    this.pem.catch(() => (this.pem = undefined)); // a failed read is retried by the next call
    return this.pem;
  }

  async sign({ digest }: { readonly digest: Uint8Array }): Promise<Buffer> {
    const r = await this.kms.send(new SignCommand({ KeyId: this.keyArn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
    if (!r.Signature) throw new Error('KMS returned no signature');
    return Buffer.from(r.Signature);
  }
}

/** Local stand-in for the KMS key. Node signs bytes, not a digest, so it signs the image itself (same signature semantics). */
export class LocalPlatformSigner implements PlatformSigner {
  private readonly key: KeyObject;
  constructor(privateKeyPem: string) {
    this.key = createPrivateKey(privateKeyPem);
    if (this.key.asymmetricKeyType !== 'ec' || this.key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new Error('The platform signing key is not a P-256 key');
  }

  private privateKey(): KeyObject {
    return this.key;
  }

  async publicKeyPem(): Promise<string> {
    return createPublicKey(this.privateKey()).export({ type: 'spki', format: 'pem' }).toString();
  }

  async sign({ bytes }: { readonly bytes: Uint8Array }): Promise<Buffer> {
    return sign('sha256', bytes, this.privateKey());
  }
}

/** The signer this function was given, if any (platform signing is a stack option). */
export function platformSignerFromEnv(env: NodeJS.ProcessEnv = process.env): PlatformSigner | undefined {
  const arn = env[ENV.PLATFORM_SIGNING_KEY_ARN];
  if (arn) return new KmsPlatformSigner(arn);
  const pem = env[ENV.PLATFORM_SIGNING_PRIVATE_KEY_PEM];
  return pem ? new LocalPlatformSigner(pem) : undefined;
}
