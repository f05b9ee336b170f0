/**
 * ESP-IDF application image: the 24-byte `esp_image_header_t` (magic, segment count, SPI
 * settings, entry point, wp pin, pin drive, `chip_id` u16 @12, `min_chip_rev` u8 @14,
 * `min_chip_rev_full` u16 @15, `max_chip_rev_full` u16 @17, reserved, `hash_appended` @23), the
 * first segment header, then `esp_app_desc_t` at byte 32 (magic 0xABCD5432, `secure_version`
 * u32 @36, reserved, `version` @48, `project_name` @80, `time` @112, `date` @128, `idf_ver` @144). Parsed from the head of the upload so a wrong-chip or
 * wrong-version image is rejected before any device could brick itself on it.
 */
import { DomainError } from './errors';
import { CHIP_IDS, type AppDescriptor, type Chip } from './model';

export const ESP_IMAGE_MAGIC = 0xe9;
export const APP_DESC_MAGIC = 0xabcd5432;
/** Bytes of the image needed to read the header and the whole app descriptor. */
export const ESP_IMAGE_HEAD_BYTES = 256;

export interface EspAppImage {
  readonly chipId: number;
  readonly chip?: Chip;
  readonly segmentCount: number;
  /** Whether a SHA-256 of the image is appended (header byte 23). */
  readonly hashAppended: boolean;
  readonly app: AppDescriptor;
}

const cString = (b: Uint8Array, offset: number, length: number): string => {
  const slice = Buffer.from(b.subarray(offset, offset + length));
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul === -1 ? length : nul).toString('utf8');
};

export function chipForId(id: number): Chip | undefined {
  return (Object.entries(CHIP_IDS) as [Chip, number][]).find(([, v]) => v === id)?.[0];
}

export function parseEspAppImage(head: Uint8Array): EspAppImage {
  if (head.length < ESP_IMAGE_HEAD_BYTES) {
    throw new DomainError('invalid', 'image_too_small', `App image is ${head.length} bytes; an ESP app image is at least ${ESP_IMAGE_HEAD_BYTES}`);
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head[0] !== ESP_IMAGE_MAGIC) {
    throw new DomainError('invalid', 'bad_image_magic', `App image starts with 0x${head[0].toString(16).padStart(2, '0')}, not the ESP image magic 0xe9`);
  }
  const descMagic = view.getUint32(32, true);
  if (descMagic !== APP_DESC_MAGIC) {
    throw new DomainError(
      'invalid',
      'bad_app_descriptor_magic',
      `No ESP-IDF app descriptor (magic 0x${descMagic.toString(16)} at byte 32, expected 0xabcd5432)`,
    );
  }
  const chipId = view.getUint16(12, true);
  const chip = chipForId(chipId);
  return {
    chipId,
    ...(chip ? { chip } : {}),
    segmentCount: head[1],
    hashAppended: head[23] === 1,
    app: {
      chipId,
      version: cString(head, 48, 32),
      projectName: cString(head, 80, 32),
      compileTime: cString(head, 112, 16),
      compileDate: cString(head, 128, 16),
      idfVersion: cString(head, 144, 32),
      secureVersion: view.getUint32(36, true),
      minChipRev: head[14],
      minChipRevFull: view.getUint16(15, true),
      maxChipRevFull: view.getUint16(17, true),
    },
  };
}

export type ImageCheck = { readonly ok: true } | { readonly ok: false; readonly code: 'chip_mismatch' | 'version_mismatch'; readonly reason: string };

/** `version` undefined: the descriptor's version is recorded, not compared (manifest `app_version_check: false`). */
export function validateAppImage(image: EspAppImage, expected: { chip: Chip; version?: string }): ImageCheck {
  const want = CHIP_IDS[expected.chip];
  if (image.chipId !== want) {
    const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
    return {
      ok: false,
      code: 'chip_mismatch',
      reason: `image is for ${image.chip ?? 'an unknown chip'} (${hex(image.chipId)}) but the product is ${expected.chip} (${hex(want)})`,
    };
  }
  if (expected.version !== undefined && image.app.version !== expected.version) {
    return {
      ok: false,
      code: 'version_mismatch',
      reason: `image app descriptor says version "${image.app.version}" but manifest.json says "${expected.version}"`,
    };
  }
  return { ok: true };
}

/** ESP-IDF's `ESP_IMAGE_MAX_SEGMENTS`: the bootloader refuses an image claiming more. */
export const ESP_IMAGE_MAX_SEGMENTS = 16;
const IMAGE_HEADER_BYTES = 24;
const SEGMENT_HEADER_BYTES = 8;
const CHECKSUM_SEED = 0xef;

/**
 * Default largest app image: the OTA app slot of a 16 MB flash layout (arduino-esp32's
 * `default_16MB.csv`: app0/app1 of 0x640000 bytes each). A bigger image cannot be written to
 * any slot, so a device would fail the update after downloading it.
 */
export const DEFAULT_MAX_IMAGE_SIZE = 0x640000;

export type ImageStructureCode =
  'truncated_image' | 'too_many_segments' | 'segment_out_of_bounds' | 'bad_image_checksum' | 'bad_image_hash' | 'image_too_large';

export type ImageStructureCheck =
  | { readonly ok: true; /** The appended SHA-256 (hex), when the header says there is one. */ readonly appendedHash?: string }
  | { readonly ok: false; readonly code: ImageStructureCode; readonly reason: string };

/**
 * Checks the whole image as the bootloader's `esp_image_verify` does: every segment header and
 * its data inside the file, the XOR checksum (seed 0xEF, in the last byte of the padding to a
 * 16-byte boundary), and the SHA-256 over everything before it when header byte 23 is set.
 * `sha256` hashes a byte range (injected so the core stays free of platform crypto).
 */
export function checkImageStructure(
  bytes: Uint8Array,
  opts: { readonly maxSize?: number; readonly sha256: (data: Uint8Array) => Uint8Array },
): ImageStructureCheck {
  const maxSize = opts.maxSize ?? DEFAULT_MAX_IMAGE_SIZE;
  const fail = (code: ImageStructureCode, reason: string): ImageStructureCheck => ({ ok: false, code, reason });
  if (bytes.length > maxSize) return fail('image_too_large', `App image is ${bytes.length} bytes; the largest this product allows is ${maxSize}`);
  if (bytes.length < IMAGE_HEADER_BYTES) return fail('truncated_image', `App image is ${bytes.length} bytes, shorter than its 24-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segments = bytes[1];
  if (segments === 0 || segments > ESP_IMAGE_MAX_SEGMENTS) {
    return fail('too_many_segments', `Header claims ${segments} segments; the bootloader accepts 1 to ${ESP_IMAGE_MAX_SEGMENTS}`);
  }
  let pos = IMAGE_HEADER_BYTES;
  let checksum = CHECKSUM_SEED;
  for (let i = 0; i < segments; i++) {
    if (pos + SEGMENT_HEADER_BYTES > bytes.length) {
      return fail('truncated_image', `Image ends at byte ${bytes.length}, inside the header of segment ${i} of ${segments}`);
    }
    const length = view.getUint32(pos + 4, true);
    const start = pos + SEGMENT_HEADER_BYTES;
    if (length % 4 !== 0) return fail('segment_out_of_bounds', `Segment ${i} length ${length} is not word-aligned`);
    if (start + length > bytes.length) {
      return fail(
        bytes.length < start + length ? 'truncated_image' : 'segment_out_of_bounds',
        `Segment ${i} claims ${length} bytes at ${start}, past the end of the ${bytes.length}-byte image`,
      );
    }
    for (let j = start; j < start + length; j++) checksum ^= bytes[j];
    pos = start + length;
  }
  // Checksum byte: last byte of the padding that brings (segments + 1 byte) to a 16-byte boundary.
  const padded = (pos + 1 + 15) & ~15;
  if (padded > bytes.length) return fail('truncated_image', `Image ends at byte ${bytes.length}, before its checksum at byte ${padded - 1}`);
  if (bytes[padded - 1] !== checksum) {
    return fail('bad_image_checksum', `Checksum byte is 0x${bytes[padded - 1].toString(16)}, the segments XOR to 0x${checksum.toString(16)}`);
  }
  if (bytes[23] !== 1) return { ok: true };
  if (padded + 32 > bytes.length) return fail('truncated_image', `Header says a SHA-256 is appended but the image ends at byte ${bytes.length}`);
  const stored = Buffer.from(bytes.subarray(padded, padded + 32)).toString('hex');
  const actual = Buffer.from(opts.sha256(bytes.subarray(0, padded))).toString('hex');
  if (stored !== actual) return fail('bad_image_hash', `Appended SHA-256 is ${stored}, the image hashes to ${actual}`);
  return { ok: true, appendedHash: stored };
}
