/**
 * Device security modes, per product:
 * - `open`          the device id is enough;
 * - `product_key`   one secret per product, baked into the firmware;
 * - `device_token`  one secret per device, issued by the operator API and shown once.
 *
 * Secrets are stored only as SHA-256 hashes (they are 143-bit random strings, so a fast hash
 * is enough) and compared in constant time.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Device tokens have a fixed length, so `<deviceId><token>` (IoTaaP's download path, which has
 * no separator) splits unambiguously: the token is always the last TOKEN_LENGTH characters.
 */
export const TOKEN_LENGTH = 24;
export const TOKEN_PATTERN = /^[A-Za-z0-9]{24}$/;
/** Product keys: a recognisable prefix plus 32 random characters. */
export const PRODUCT_KEY_PREFIX = 'pk_';

function randomString(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

export const newDeviceToken = (): string => randomString(TOKEN_LENGTH);
export const newProductKey = (): string => `${PRODUCT_KEY_PREFIX}${randomString(32)}`;

export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** Constant-time check of a presented secret against a stored hash. */
export function secretMatches(presented: string | undefined, storedHash: string | undefined): boolean {
  if (!presented || !storedHash) return false;
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Splits IoTaaP's `<device-id><device-token>` path segment. */
export function splitIdAndToken(segment: string): { deviceId: string; token: string } | undefined {
  if (segment.length <= TOKEN_LENGTH) return undefined;
  const token = segment.slice(-TOKEN_LENGTH);
  if (!TOKEN_PATTERN.test(token)) return undefined;
  return { deviceId: segment.slice(0, -TOKEN_LENGTH), token };
}

/**
 * Whether a device request's credential satisfies its product's mode. `product_key` accepts the
 * current key and, until retired, the previous one (rotation without bricking a fleet);
 * `device_token` needs the device's own token, so unknown devices never pass.
 */
export function authorizeDevice(
  product: { readonly securityMode: 'open' | 'product_key' | 'device_token'; readonly productKeyHash?: string; readonly previousProductKeyHash?: string },
  device: { readonly tokenHash?: string } | undefined,
  presented: string | undefined,
): boolean {
  switch (product.securityMode) {
    case 'open':
      return true;
    case 'product_key':
      // Evaluate both comparisons: no early exit that would time which key matched.
      return [secretMatches(presented, product.productKeyHash), secretMatches(presented, product.previousProductKeyHash)].some(Boolean);
    case 'device_token':
      return secretMatches(presented, device?.tokenHash);
  }
}

/**
 * The secret a device presents, from whichever place its client can put it: `Authorization:
 * Bearer <secret>`, `Authorization: Basic` (the password; Arduino HTTPUpdate's setAuthorization),
 * `X-OTA-Key` / `X-OTA-Token`, else a body or query field.
 */
export function presentedSecret(headers: Readonly<Record<string, string | undefined>>, fallback?: string): string | undefined {
  const auth = headers.authorization?.trim();
  if (auth) {
    const [scheme, value] = auth.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'bearer' && value) return value;
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) return decoded.slice(colon + 1);
    }
  }
  return headers['x-ota-key'] ?? headers['x-ota-token'] ?? fallback;
}
