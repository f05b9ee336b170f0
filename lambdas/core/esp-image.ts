/**
 * ESP-IDF application image: the 24-byte `esp_image_header_t`, the first segment header, then
 * `esp_app_desc_t` at byte 32. Parsed from the head of the upload so a wrong-chip or
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
