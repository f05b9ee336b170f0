/**
 * CloudFront signed URLs (canned policy) for firmware downloads. Bytes never cross the API tier:
 * devices fetch from CloudFront, or locally from the edge that verifies the same signatures.
 * The private key is read once per container, lazily, so a steady-state check never pays for it.
 */
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fitsRequestLine, requestLineBytes } from '../core/download-url';
import { numberEnv, requireEnv } from './config';
import { ENV } from './env';

export interface UrlSigner {
  /** Signed URL for an object key, valid for the configured TTL from `nowMs`. */
  sign(objectKey: string, nowMs?: number): Promise<string>;
}

export interface UrlSignerOptions {
  readonly cdnBaseUrl: string;
  readonly keyPairId: string;
  readonly ttlSeconds: number;
  readonly privateKey: () => Promise<string>;
}

export function createUrlSigner(opts: UrlSignerOptions): UrlSigner {
  const base = opts.cdnBaseUrl.replace(/\/+$/, '');
  return {
    async sign(objectKey, nowMs = Date.now()) {
      const url = `${base}/${objectKey.split('/').map(encodeURIComponent).join('/')}`;
      const signed = getSignedUrl({
        url,
        keyPairId: opts.keyPairId,
        privateKey: await opts.privateKey(),
        // Whole seconds: CloudFront compares epoch seconds.
        dateLessThan: new Date(Math.floor(nowMs / 1000) * 1000 + opts.ttlSeconds * 1000).toISOString(),
      });
      // Guard the ESP-IDF request-line budget; an over-long URL would fail on the device.
      if (!fitsRequestLine(signed)) throw new Error(`Signed URL request line is ${requestLineBytes(signed)} bytes (> 512): ${objectKey}`);
      return signed;
    },
  };
}

/** Memoises a key loader; a failed load is retried on the next call instead of being cached. */
function once(load: () => Promise<string>): () => Promise<string> {
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= load().catch((e) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}

/** Signer configured from the environment: inline PEM locally, Secrets Manager in the cloud. */
export function urlSignerFromEnv(): UrlSigner {
  const inline = process.env[ENV.SIGNING_PRIVATE_KEY_PEM];
  const secretId = inline ? undefined : requireEnv(ENV.SIGNING_KEY_SECRET_ID);
  const privateKey = inline
    ? async () => inline
    : once(async () => {
        const r = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
        if (!r.SecretString) throw new Error('Signing key secret is empty');
        return r.SecretString;
      });
  return createUrlSigner({
    cdnBaseUrl: requireEnv(ENV.CDN_BASE_URL),
    keyPairId: requireEnv(ENV.SIGNING_KEY_PAIR_ID),
    ttlSeconds: numberEnv(ENV.URL_TTL_SECONDS, 900, 60),
    privateKey,
  });
}
