/**
 * FireFly / esp32FOTA manifest protocol: `GET /ota/{class}/{product_hex}?current_version=`.
 * Response `{ type, version, app, ui? }` with signed CDN URLs; must fit esp32FOTA's 2048-byte
 * parse buffer. Pure shaping; the adapter does the I/O.
 */
import * as z from 'zod/mini';
import { DEVICE_ID_PATTERN } from '../device-id';
import { CHANNEL_PATTERN } from '../manifest';
import { isValidVersion } from '../version';

/** FireFly's product hex (`0x32322505`), matched case-insensitively. */
export const PRODUCT_HEX_PATTERN = /^0[xX][0-9A-Fa-f]{1,16}$/;

/** esp32FOTA reads the manifest into a 2048-byte buffer. */
export const ESP32FOTA_MANIFEST_MAX_BYTES = 2048;

export const FireflyQuerySchema = z.object({
  current_version: z.string().check(z.maxLength(64), z.refine(isValidVersion, 'must be a semver, calendar or numeric version')),
  /** esp32FOTA `useDeviceId(true)` appends `?id=<efuse MAC as decimal>`: puts the device in rollout cohorts. */
  id: z.optional(z.string().check(z.regex(DEVICE_ID_PATTERN))),
  channel: z.optional(z.string().check(z.regex(CHANNEL_PATTERN))),
  token: z.optional(z.string().check(z.maxLength(256))),
});
export type FireflyQuery = z.infer<typeof FireflyQuerySchema>;

export interface FireflyManifest {
  readonly type: string;
  readonly version: string;
  readonly app?: string;
  readonly ui?: string;
  /** The app URL again under the key stock esp32FOTA (chrisjoyce911) reads; FireFly's fork reads `app`. */
  readonly url?: string;
}

export function fireflyManifest(type: string, version: string, urls?: { app: string; ui?: string }): FireflyManifest {
  return { type, version, ...(urls ? { app: urls.app, ...(urls.ui ? { ui: urls.ui } : {}), url: urls.app } : {}) };
}

/**
 * esp32FOTA's `useDeviceId(true)` sends `ESP.getEfuseMac()` as a decimal number; the MAC's first
 * byte is its least significant byte. Converted to `AA:BB:CC:DD:EE:FF` so the device is the same
 * one the native API and the other protocols see. Anything else is returned unchanged.
 */
export function esp32FotaDeviceId(id: string): string {
  if (!/^\d{1,15}$/.test(id)) return id;
  let n = BigInt(id);
  if (n >= 1n << 48n) return id;
  const bytes: string[] = [];
  for (let i = 0; i < 6; i++) {
    bytes.push(Number(n & 0xffn).toString(16).padStart(2, '0').toUpperCase());
    n >>= 8n;
  }
  return bytes.join(':');
}
