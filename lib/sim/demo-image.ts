/**
 * A minimal valid ESP32 application image for the demo and simulations: image header (magic
 * 0xE9, chip esp32), one segment, `esp_app_desc_t` with the version, a deterministic body and the
 * appended SHA-256 — exactly what the ingest pipeline validates.
 */
import { createHash } from 'node:crypto';
import { APP_DESC_MAGIC, ESP_IMAGE_MAGIC } from '../../lambdas/core/esp-image';
import { CHIP_IDS, type Chip } from '../../lambdas/core/model';

export function buildDemoImage(version: string, fill = 1, size = 32 * 1024, chip: Chip = 'esp32'): Buffer {
  const buf = Buffer.alloc(size);
  let x = fill >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  buf.fill(0, 0, 256);
  buf[0] = ESP_IMAGE_MAGIC;
  buf[1] = 1;
  buf[2] = 2;
  buf[3] = 0x20;
  buf.writeUInt32LE(0x40080000, 4);
  buf[8] = 0xee;
  buf.writeUInt16LE(CHIP_IDS[chip], 12);
  buf.writeUInt16LE(0xffff, 17);
  buf[23] = 1; // hash appended
  buf.writeUInt32LE(0x3f400020, 24);
  // One segment ending 16 bytes before a 16-byte boundary: its padding holds the XOR checksum
  // (seed 0xEF) the bootloader verifies, then the appended SHA-256 over everything before it.
  const padded = Math.floor((size - 32) / 16) * 16;
  const dataLen = padded - 48;
  buf.writeUInt32LE(dataLen, 28);
  buf.writeUInt32LE(APP_DESC_MAGIC, 32);
  buf.write(version.slice(0, 31), 48, 32, 'utf8');
  buf.write('ota-demo', 80, 32, 'utf8');
  buf.write('00:00:00', 112, 16, 'utf8');
  buf.write('Jan  1 2026', 128, 16, 'utf8');
  buf.write('v5.3.1', 144, 32, 'utf8');
  buf.fill(0, 32 + dataLen, padded - 1);
  let checksum = 0xef;
  for (let i = 32; i < 32 + dataLen; i++) checksum ^= buf[i];
  buf[padded - 1] = checksum;
  createHash('sha256').update(buf.subarray(0, padded)).digest().copy(buf, padded);
  return buf;
}
