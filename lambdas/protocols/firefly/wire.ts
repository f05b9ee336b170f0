/**
 * FireFly / esp32FOTA manifest protocol: `GET /ota/{class}/{product_hex}?current_version=`.
 * Response `{ type, version, app, ui?, url | host+port+bin+spiffs }` with signed CDN URLs; must fit esp32FOTA's 2048-byte
 * parse buffer. Pure shaping; the adapter does the I/O.
 */
import * as z from 'zod/mini';
import { DEVICE_ID_PATTERN } from '../../core/device-id';
import { CHANNEL_PATTERN } from '../../core/manifest';
import { isValidVersion } from '../../core/version';

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
  /** FireFly's fork: the app image URL. */
  readonly app?: string;
  /** FireFly's fork: the filesystem image URL. */
  readonly ui?: string;
  /** Stock esp32FOTA, release without a filesystem image: the app URL (the library then ignores host/bin/spiffs). */
  readonly url?: string;
  /** Stock esp32FOTA, release with a filesystem image: `http(s)://host:port` + `bin` / + `spiffs`. */
  readonly host?: string;
  readonly port?: number;
  readonly bin?: string;
  readonly spiffs?: string;
}

/**
 * The manifest both clients read. Stock esp32FOTA (`checkJSONManifest`, src/esp32FOTA.cpp) takes
 * `url` if present and then ignores every other key, so a filesystem image reaches it only in
 * the `host`/`port`/`bin` form with `spiffs`, where it rebuilds both URLs as
 * `(port 443|4433 ? https : http)://host:port` + path. That form is used when the release has a ui
 * image whose URL shares the app's origin and the scheme is the one the library derives from the
 * port; otherwise `url` (the app alone). FireFly's fork reads `app`/`ui`, present in both.
 */
export function fireflyManifest(type: string, version: string, urls: { app: string; ui?: string }): FireflyManifest {
  const fork = { type, version, app: urls.app, ...(urls.ui ? { ui: urls.ui } : {}) };
  const split = urls.ui ? hostPortForm(urls.app, urls.ui) : undefined;
  return split ? { ...fork, ...split } : { ...fork, url: urls.app };
}

function hostPortForm(app: string, ui: string): { host: string; port: number; bin: string; spiffs: string } | undefined {
  const a = new URL(app);
  const u = new URL(ui);
  if (a.origin !== u.origin || (a.protocol !== 'http:' && a.protocol !== 'https:')) return undefined;
  const port = Number(a.port || (a.protocol === 'https:' ? 443 : 80));
  const libraryScheme = port === 443 || port === 4433 ? 'https:' : 'http:';
  if (libraryScheme !== a.protocol) return undefined;
  return { host: a.hostname, port, bin: a.pathname + a.search, spiffs: u.pathname + u.search };
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
    bytes.push(
      Number(n & 0xffn)
        .toString(16)
        .padStart(2, '0')
        .toUpperCase(),
    );
    n >>= 8n;
  }
  return bytes.join(':');
}

/** A version as esp32FOTA holds it (semver_t: major, minor, patch). */
export type Esp32FotaVersion = readonly [number, number, number];

/**
 * Parses a version string the way esp32FOTA does (src/semver/semver.c `semver_parse_version`,
 * called by `SemverClass` in src/esp32FOTA.cpp): up to four dot-separated slices, each read with
 * `strtol(…, 10)`; the first three are major.minor.patch, the fourth is read and dropped, the
 * rest never read. A slice with anything after its digits (`0-rc`, `v3`) or over 50 characters
 * fails the parse and `SemverClass` falls back to 0.0.0. Missing parts stay 0.
 */
export function esp32FotaVersion(s: string): Esp32FotaVersion {
  const parts = [0, 0, 0];
  const slices = s.split('.').slice(0, 4);
  for (let i = 0; i < slices.length; i++) {
    const slice = slices[i];
    if (slice.length > 50) return [0, 0, 0];
    // strtol: optional leading whitespace and sign, then base-10 digits; an empty slice is 0.
    const m = /^\s*([+-]?\d+)?(.*)$/s.exec(slice)!;
    if (m[2] !== '' || (m[1] === undefined && slice !== '')) return [0, 0, 0];
    if (i < 3) parts[i] = m[1] === undefined ? 0 : Math.max(-2147483648, Math.min(2147483647, Number(m[1])));
  }
  return [parts[0], parts[1], parts[2]];
}

/** esp32FOTA updates only when the manifest's version is strictly greater (`semver_compare(...) == 1`). */
export function esp32FotaIsNewer(candidate: string, running: string): boolean {
  const a = esp32FotaVersion(candidate);
  const b = esp32FotaVersion(running);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return false;
}
