/**
 * Builds realistic ESP-IDF application images (tests, `otactl sample-image`): image header, one segment header,
 * `esp_app_desc_t`, a deterministic pseudo-random body and (optionally) the appended SHA-256,
 * so tests can make valid images for every chip and each kind of broken one.
 */
import { createHash } from 'node:crypto';
import { APP_DESC_MAGIC, ESP_IMAGE_MAGIC } from '../../lambdas/core/esp-image';
import { CHIP_IDS, type Chip } from '../../lambdas/core/model';

export interface EspImageOptions {
  readonly chip?: Chip;
  /** Overrides the chip id (e.g. an unknown chip). */
  readonly chipId?: number;
  readonly version?: string;
  readonly projectName?: string;
  readonly idfVersion?: string;
  /** Total size in bytes (default 64 KiB). */
  readonly size?: number;
  readonly magic?: number;
  readonly descriptorMagic?: number;
  /** Seed of the pseudo-random body, so two builds differ in bytes. */
  readonly fill?: number;
  /** Append the image SHA-256 (header byte 23), as esptool does (default true). */
  readonly hashAppended?: boolean;
  /** `esp_app_desc_t.secure_version` (default 0). */
  readonly secureVersion?: number;
  /** Header `min_chip_rev` (u8 @14, default 0), `min_chip_rev_full` (u16 @15, default 0), `max_chip_rev_full` (u16 @17, default 0xffff). */
  readonly minChipRev?: number;
  readonly minChipRevFull?: number;
  readonly maxChipRevFull?: number;
  /** Overrides header byte 1 (segment count) after the image is built, e.g. 200. */
  readonly segmentCount?: number;
}

const putString = (buf: Buffer, offset: number, length: number, s: string) => buf.write(s.slice(0, length - 1), offset, length, 'utf8');

export function buildEspImage(opts: EspImageOptions = {}): Buffer {
  const size = opts.size ?? 64 * 1024;
  const hashAppended = opts.hashAppended ?? true;
  const buf = Buffer.alloc(size);
  // Deterministic body (xorshift) so sha256/crc32 are stable per seed.
  let x = (opts.fill ?? 1) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  if (size < 24) return buf.fill(opts.magic ?? ESP_IMAGE_MAGIC, 0, 1);
  // esp_image_header_t
  buf[0] = opts.magic ?? ESP_IMAGE_MAGIC;
  buf[1] = 1; // segment count
  buf[2] = 2; // spi mode DIO
  buf[3] = 0x20; // 4MB, 40MHz
  buf.writeUInt32LE(0x40080000, 4); // entry address
  buf[8] = 0xee; // wp pin
  buf.fill(0, 9, 12);
  buf.writeUInt16LE(opts.chipId ?? CHIP_IDS[opts.chip ?? 'esp32'], 12);
  buf[14] = opts.minChipRev ?? 0;
  buf.writeUInt16LE(opts.minChipRevFull ?? 0, 15);
  buf.writeUInt16LE(opts.maxChipRevFull ?? 0xffff, 17);
  buf.fill(0, 19, 23);
  buf[23] = hashAppended ? 1 : 0;
  // One segment ends 16 bytes before a 16-byte boundary so its padding holds the checksum byte;
  // the appended SHA-256 follows, and bytes left over by an unaligned `size` trail after it.
  const padded = Math.floor((size - (hashAppended ? 32 : 0)) / 16) * 16;
  const dataLen = padded - 48;
  if (size >= 256) {
    // First segment header: load address + length, then esp_app_desc_t at byte 32.
    buf.writeUInt32LE(0x3f400020, 24);
    buf.writeUInt32LE(dataLen, 28);
    buf.writeUInt32LE(opts.descriptorMagic ?? APP_DESC_MAGIC, 32);
    buf.writeUInt32LE(opts.secureVersion ?? 0, 36); // secure_version
    buf.fill(0, 40, 48);
    buf.fill(0, 48, 256);
    putString(buf, 48, 32, opts.version ?? '1.0.0');
    putString(buf, 80, 32, opts.projectName ?? 'test-app');
    putString(buf, 112, 16, '12:00:00');
    putString(buf, 128, 16, 'Nov 23 2026');
    putString(buf, 144, 32, opts.idfVersion ?? 'v5.3.1');
  }
  if (size >= 256) {
    buf.fill(0, 32 + dataLen, padded - 1);
    let checksum = 0xef;
    for (let i = 32; i < 32 + dataLen; i++) checksum ^= buf[i];
    buf[padded - 1] = checksum;
    if (hashAppended) createHash('sha256').update(buf.subarray(0, padded)).digest().copy(buf, padded);
  } else if (hashAppended && size > 64) {
    createHash('sha256')
      .update(buf.subarray(0, size - 32))
      .digest()
      .copy(buf, size - 32);
  }
  if (opts.segmentCount !== undefined && size >= 24) buf[1] = opts.segmentCount;
  return buf;
}
