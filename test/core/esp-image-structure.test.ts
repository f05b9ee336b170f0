/**
 * Whole-image validation as the ESP-IDF bootloader does it, against each broken image a careless
 * CI or an attacker uploaded (issue 9), and the fixtures' own images (which must boot).
 */
import { createHash } from 'node:crypto';
import { checkImageStructure, DEFAULT_MAX_IMAGE_SIZE, ESP_IMAGE_MAX_SEGMENTS } from '../../lambdas/core/esp-image';
import { buildDemoImage } from '../../lib/sim/demo-image';
import { buildEspImage } from '../fixtures/esp-image';

const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest();
const check = (bytes: Uint8Array, maxSize?: number) => checkImageStructure(bytes, { sha256, ...(maxSize ? { maxSize } : {}) });
const code = (bytes: Uint8Array, maxSize?: number) => {
  const r = check(bytes, maxSize);
  return r.ok ? 'ok' : r.code;
};

/** Recomputes checksum + appended hash of a one-segment image after its data was edited. */
const reseal = (img: Buffer): Buffer => {
  const len = img.readUInt32LE(28);
  const padded = (32 + len + 1 + 15) & ~15;
  let x = 0xef;
  for (let i = 32; i < 32 + len; i++) x ^= img[i];
  img[padded - 1] = x;
  sha256(img.subarray(0, padded)).copy(img, padded);
  return img;
};

describe('checkImageStructure', () => {
  it('accepts the fixtures and the demo image, returning the appended SHA-256', () => {
    for (const img of [buildEspImage(), buildEspImage({ size: 32 * 1024, fill: 7 }), buildDemoImage('1.0.0'), buildEspImage({ size: 4 * 1024 * 1024 })]) {
      const r = check(img);
      expect(r).toEqual({ ok: true, appendedHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
    const img = buildDemoImage('1.0.0');
    expect((check(img) as { appendedHash: string }).appendedHash).toBe(Buffer.from(img.subarray(img.length - 32)).toString('hex'));
  });

  it('accepts an image without an appended hash when its checksum is right', () => {
    expect(check(buildEspImage({ hashAppended: false }))).toEqual({ ok: true });
  });

  it('rejects the first 300 bytes of a 32 KB image as truncated', () => {
    expect(code(buildEspImage({ size: 32 * 1024 }).subarray(0, 300))).toBe('truncated_image');
  });

  it('rejects half an image as truncated', () => {
    const img = buildEspImage({ size: 32 * 1024 });
    expect(code(img.subarray(0, img.length / 2))).toBe('truncated_image');
  });

  it('rejects a correct header with garbage segments and a wrong appended SHA-256', () => {
    const img = buildEspImage({ size: 32 * 1024 });
    const garbage = buildEspImage({ size: 32 * 1024, fill: 99 });
    garbage.copy(img, 256, 256, img.length - 64); // descriptor kept, segment data replaced
    img.fill(0xaa, img.length - 32); // and a made-up hash
    expect(['bad_image_checksum', 'bad_image_hash']).toContain(code(img));
    expect(code(img)).not.toBe('ok');
  });

  it('rejects a wrong appended SHA-256 even when the checksum is right', () => {
    const img = buildEspImage({ size: 32 * 1024 });
    img[img.length - 1] ^= 0x01;
    expect(code(img)).toBe('bad_image_hash');
  });

  it(`rejects a header claiming 200 segments (the bootloader allows ${ESP_IMAGE_MAX_SEGMENTS})`, () => {
    expect(code(buildEspImage({ segmentCount: 200 }))).toBe('too_many_segments');
    expect(code(buildEspImage({ segmentCount: 0 }))).toBe('too_many_segments');
  });

  it('rejects an image with 4 bytes changed (checksum or appended hash no longer match)', () => {
    const img = buildEspImage({ size: 32 * 1024 });
    for (const at of [1000, 1001, 1002, 1003]) img[at] ^= 0x5a;
    expect(code(img)).toBe('bad_image_hash');
    // 4 changed bytes whose XOR cancels still fail the SHA-256; others fail the checksum first.
    const img2 = buildEspImage({ size: 32 * 1024 });
    img2[2000] ^= 0x01;
    expect(code(img2)).toBe('bad_image_checksum');
  });

  it('rejects a segment whose length runs past the end of the file', () => {
    const img = buildEspImage({ size: 32 * 1024 });
    img.writeUInt32LE(0x10000000, 28);
    expect(['segment_out_of_bounds', 'truncated_image']).toContain(code(img));
    const unaligned = buildEspImage({ size: 32 * 1024 });
    unaligned.writeUInt32LE(unaligned.readUInt32LE(28) - 1, 28);
    expect(code(unaligned)).toBe('segment_out_of_bounds');
  });

  it('rejects an 8 MB image: larger than the OTA slot of a 16 MB layout (0x640000), or a per-product limit', () => {
    expect(DEFAULT_MAX_IMAGE_SIZE).toBe(0x640000);
    expect(code(buildEspImage({ size: 8 * 1024 * 1024 }))).toBe('image_too_large');
    expect(code(buildEspImage({ size: 64 * 1024 }), 32 * 1024)).toBe('image_too_large');
  });

  it('accepts a re-sealed edited image (the checks are what the bootloader computes, not fixture constants)', () => {
    const img = buildEspImage({ size: 32 * 1024 });
    img[5000] ^= 0xff;
    expect(code(reseal(img))).toBe('ok');
  });
});
