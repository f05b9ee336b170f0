/**
 * CloudFront signed URLs (canned policy) for firmware downloads. Bytes never cross the API tier:
 * devices fetch from CloudFront, or locally from the edge that verifies the same signatures.
 * The private key is read once per container, lazily, so a steady-state check never pays for it.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { DEVICE_URL_PARAM } from '../core/download';
import { fitsRequestLine, requestLineBytes } from '../core/download-url';
import { numberEnv, requireEnv } from './config';
import { ENV } from './env';
import { clientTimeouts, SECRETS_BUDGET } from './timeouts';

export interface UrlSigner {
  /** Signed URL for an object key, valid for the configured TTL from `nowMs`. */
  sign(objectKey: string, nowMs?: number, deviceId?: string): Promise<string>;
}

export interface UrlSignerOptions {
  readonly cdnBaseUrl: string;
  readonly keyPairId: string;
  readonly ttlSeconds: number;
  readonly privateKey: () => Promise<string>;
}

/**
 * Signed URLs expire on a whole-minute grid (between TTL and TTL + 1 min from now), so every
 * device offered the same object within a minute gets the very same URL: it is signed once per
 * object per minute (an RSA signature is the most expensive step of an offer) and CDN logs group.
 */
export const EXPIRY_GRID_SECONDS = 60;

/** Signed URLs a container remembers (per object and device, for the current expiry minute). */
const SIGNED_URL_CACHE_ENTRIES = 5000;

/** Device ids are query-safe as they are (DEVICE_ID_PATTERN: letters, digits, `:._-`). */
const DEVICE_ID_QUERY_SAFE = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$/;

export function createUrlSigner(opts: UrlSignerOptions): UrlSigner {
  const base = opts.cdnBaseUrl.replace(/\/+$/, '');
  const cache = new Map<string, { expires: number; url: string }>();
  const signUrl = async (url: string, expires: number) =>
    getSignedUrl({ url, keyPairId: opts.keyPairId, privateKey: await opts.privateKey(), dateLessThan: new Date(expires * 1000).toISOString() });
  return {
    async sign(objectKey, nowMs = Date.now(), deviceId) {
      // Whole seconds (CloudFront compares epoch seconds), rounded up to the grid.
      const expires = Math.ceil((Math.floor(nowMs / 1000) + opts.ttlSeconds) / EXPIRY_GRID_SECONDS) * EXPIRY_GRID_SECONDS;
      const device = deviceId && DEVICE_ID_QUERY_SAFE.test(deviceId) ? deviceId : undefined;
      const cacheKey = `${objectKey}\n${device ?? ''}`;
      const hit = cache.get(cacheKey);
      if (hit && hit.expires === expires) return hit.url;
      const url = `${base}/${objectKey.split('/').map(encodeURIComponent).join('/')}`;
      // The device's id is part of the signed resource (it cannot be changed without breaking the
      // signature) and reaches the CDN's logs: the download becomes evidence about that device's offer.
      let signed = device ? await signUrl(`${url}?${DEVICE_URL_PARAM}=${device}`, expires) : undefined;
      // A URL that would not fit ESP-IDF's request line with the id goes without it (the download is then unattributed).
      if (!signed || !fitsRequestLine(signed)) signed = await signUrl(url, expires);
      // Guard the ESP-IDF request-line budget; an over-long URL would fail on the device.
      if (!fitsRequestLine(signed)) throw new Error(`Signed URL request line is ${requestLineBytes(signed)} bytes (> 512): ${objectKey}`);
      if (cache.size >= SIGNED_URL_CACHE_ENTRIES) cache.delete(cache.keys().next().value!); // oldest first
      cache.set(cacheKey, { expires, url: signed });
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
        const r = await new SecretsManagerClient(clientTimeouts(SECRETS_BUDGET)).send(new GetSecretValueCommand({ SecretId: secretId }));
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
