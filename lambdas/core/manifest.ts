/**
 * The CI `manifest.json` (FireFly-style) and the classification of a release folder's files.
 * Unknown manifest fields are rejected: a typo in CI must fail loudly, not ship silently.
 */
import * as z from 'zod/mini';
import { DEVICE_ID_PATTERN } from './device-id';
import { DomainError } from './errors';
import { isValidVersion } from './version';

export const PRODUCT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const CHANNEL_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const BOARD_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
/** Object names whose arrival (re-)evaluates their release folder: the manifest, and the files it may be waiting for. */
export const INGEST_TRIGGER_SUFFIXES = ['manifest.json', '.bin', '.ufw'] as const;
export const FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const IngestManifestSchema = z.strictObject({
  product: z.string().check(z.regex(PRODUCT_ID_PATTERN, 'must match [a-z0-9][a-z0-9_-]{0,31}')),
  version: z.string().check(z.refine(isValidVersion, 'must be a semver, calendar or numeric version')),
  firmware_type: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  files: z
    .array(
      z
        .strictObject({
          name: z.string().check(z.regex(FILE_NAME_PATTERN, 'must be a plain file name')),
          sha256: z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits'))),
          /** Detached ECDSA P-256 signature over the file (`openssl dgst -sha256 -sign`, `otactl sign`): DER, base64. App image only. */
          signature: z.optional(z.string().check(z.regex(/^[A-Za-z0-9+/]{1,200}={0,2}$/, 'must be base64 (a DER ECDSA signature)'))),
          /** Id of the registered key that made `signature` (64 hex). */
          key_id: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'))),
        })
        .check(z.refine((f) => (f.signature === undefined) === (f.key_id === undefined), 'signature and key_id go together')),
    )
    .check(
      z.minLength(1),
      z.maxLength(16),
      z.refine((files) => new Set(files.map((f) => f.name)).size === files.length, 'file names must be unique'),
    ),
  notes: z.optional(z.string().check(z.maxLength(2000))),
  channel: z.optional(z.string().check(z.regex(CHANNEL_PATTERN))),
  release: z.optional(z.boolean()),
  /** Board types the build is for (Cheeko `board`, Bota `model`); absent = every board of the chip. */
  boards: z.optional(z.array(z.string().check(z.regex(BOARD_PATTERN, 'must be a board name'))).check(z.minLength(1), z.maxLength(32))),
  /**
   * false: record the image's own version but do not require it to equal `version`. For Arduino
   * builds, whose app descriptor carries the core's version, not the sketch's.
   */
  app_version_check: z.optional(z.boolean()),
  /** Compatibility: inclusive hardware revision range the build supports. */
  hw_revision_min: z.optional(z.int().check(z.gte(0), z.lte(65535))),
  hw_revision_max: z.optional(z.int().check(z.gte(0), z.lte(65535))),
  /** Devices must already run at least this version to take the build. */
  min_version: z.optional(z.string().check(z.refine(isValidVersion, 'must be a version'))),
  /** Must-pass-through: devices below this version are offered it before anything newer. */
  required_step: z.optional(z.boolean()),
  /** Install without asking the user (Cheeko `force`). */
  force: z.optional(z.boolean()),
  /** Assign the build to these devices once accepted (implies release); used by the IoTaaP upload route. */
  assign_to: z.optional(z.array(z.string().check(z.regex(DEVICE_ID_PATTERN))).check(z.minLength(1), z.maxLength(100))),
});
export type IngestManifest = z.infer<typeof IngestManifestSchema>;

export function parseIngestManifest(text: string): IngestManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DomainError('invalid', 'invalid_json', 'manifest.json is not valid JSON');
  }
  const r = IngestManifestSchema.safeParse(value);
  if (!r.success) {
    const detail = r.error.issues
      .slice(0, 5)
      .map((i) => {
        const path = i.path.map(String).join('.') || '(manifest)';
        const unknown = i.code === 'unrecognized_keys' ? `: unknown field(s) ${(i as { keys?: string[] }).keys?.join(', ')}` : `: ${i.message}`;
        return `${path}${unknown}`;
      })
      .join('; ');
    throw new DomainError('invalid', 'invalid_manifest', `manifest.json: ${detail}`);
  }
  return r.data;
}

export interface FileClasses {
  /** The application image (esp32FOTA `app`). */
  readonly app: string;
  /** The LittleFS/SPIFFS image (esp32FOTA `ui`). */
  readonly ui?: string;
  /** A Bluetooth OTA package, relayed by a phone app (Bota). */
  readonly ufw?: string;
  /** Files in the folder that are never offered to devices. */
  readonly excluded: string[];
}

/**
 * FireFly's exclusions, plus the bare names ESP-IDF and Arduino-ESP32 3.x build next to the app
 * (`bootloader.bin`, `partition-table.bin`, `ota_data_initial.bin`, `*.merged.bin`): none is an
 * OTA-updatable application, and a CI that uploads its whole build folder must not be rejected.
 */
const BARE_EXCLUDED = new Set(['config.bin', 'manifest.json', 'bootloader.bin', 'partitions.bin', 'partition-table.bin', 'ota_data_initial.bin']);
const EXCLUDED = (name: string) =>
  BARE_EXCLUDED.has(name) || name.endsWith('.bootloader.bin') || name.endsWith('.partitions.bin') || name.endsWith('.merged.bin');

/**
 * FireFly's rules: `ui.bin` → ui; config.bin, manifest.json, *.bootloader.bin, *.partitions.bin →
 * never offered; exactly one other *.bin → app; plus at most one *.ufw (Bluetooth package).
 */
export function classifyFiles(names: readonly string[]): FileClasses {
  const excluded: string[] = [];
  const apps: string[] = [];
  const ufws: string[] = [];
  let ui: string | undefined;
  for (const name of names) {
    if (EXCLUDED(name)) excluded.push(name);
    else if (name === 'ui.bin') ui = name;
    else if (name.endsWith('.ufw')) ufws.push(name);
    else if (name.endsWith('.bin')) apps.push(name);
    else throw new DomainError('invalid', 'unsupported_file', `${name} is neither a .bin image, a .ufw package nor manifest.json`);
  }
  if (apps.length === 0) throw new DomainError('invalid', 'no_app_image', 'The release has no application image (*.bin)');
  if (apps.length > 1) throw new DomainError('invalid', 'multiple_app_images', `More than one application image: ${apps.join(', ')}`);
  if (ufws.length > 1) throw new DomainError('invalid', 'multiple_ufw_packages', `More than one .ufw package: ${ufws.join(', ')}`);
  return { app: apps[0], ...(ui ? { ui } : {}), ...(ufws[0] ? { ufw: ufws[0] } : {}), excluded };
}
