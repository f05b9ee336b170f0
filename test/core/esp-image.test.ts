import { APP_DESC_MAGIC, chipForId, ESP_IMAGE_HEAD_BYTES, ESP_IMAGE_MAGIC, parseEspAppImage, validateAppImage } from '../../lambdas/core/esp-image';
import { CHIPS, type Chip } from '../../lambdas/core/model';
import { buildEspImage } from '../fixtures/esp-image';
import { domainError } from '../support/domain-error';

/** chip_id values of esp_image_header_t, from ESP-IDF's esp_chip_id_t. */
const EXPECTED_CHIP_IDS: readonly [Chip, number][] = [
  ['esp32', 0x0000],
  ['esp32s2', 0x0002],
  ['esp32c3', 0x0005],
  ['esp32s3', 0x0009],
  ['esp32c2', 0x000c],
  ['esp32c6', 0x000d],
  ['esp32h2', 0x0010],
];

describe('ESP image constants', () => {
  it('uses the ESP-IDF magics and reads enough bytes for the whole app descriptor', () => {
    expect(ESP_IMAGE_MAGIC).toBe(0xe9);
    expect(APP_DESC_MAGIC).toBe(0xabcd5432);
    // idf_ver ends at byte 144 + 32.
    expect(ESP_IMAGE_HEAD_BYTES).toBeGreaterThanOrEqual(176);
  });

  it('maps every chip id both ways', () => {
    expect([...CHIPS].sort()).toEqual(EXPECTED_CHIP_IDS.map(([c]) => c).sort());
    for (const [chip, id] of EXPECTED_CHIP_IDS) expect(chipForId(id)).toBe(chip);
    expect(chipForId(0x0001)).toBeUndefined();
    expect(chipForId(0xffff)).toBeUndefined();
  });
});

describe('parseEspAppImage', () => {
  it.each(EXPECTED_CHIP_IDS)('parses a valid %s image (chip_id %d) and accepts it for that chip', (chip, id) => {
    const img = buildEspImage({ chip, version: '2.4.1', projectName: `fw-${chip}`, idfVersion: 'v5.3.1-dirty' });
    const parsed = parseEspAppImage(img);
    expect(parsed.chipId).toBe(id);
    expect(parsed.chip).toBe(chip);
    expect(parsed.app).toMatchObject({ chipId: id, version: '2.4.1', projectName: `fw-${chip}`, idfVersion: 'v5.3.1-dirty' });
    expect(validateAppImage(parsed, { chip, version: '2.4.1' })).toEqual({ ok: true });
  });

  it('reads header fields: segment count (byte 1), chip id (u16 LE at 12), hash appended (byte 23)', () => {
    const img = buildEspImage({ chip: 'esp32s3' });
    expect(img.readUInt16LE(12)).toBe(0x0009); // the fixture agrees with the layout
    const parsed = parseEspAppImage(img);
    expect(parsed.segmentCount).toBe(1);
    expect(parsed.hashAppended).toBe(true);
    expect(parseEspAppImage(buildEspImage({ hashAppended: false })).hashAppended).toBe(false);
  });

  it('extracts chip revisions (14, 15, 17), secure_version (36), version (48), project_name (80), time (112), date (128) and idf_ver (144) from a hand-built image', () => {
    // Built byte by byte from esp_image_header_t / esp_app_desc_t, independent of the fixture.
    const b = Buffer.alloc(ESP_IMAGE_HEAD_BYTES + 100, 0xff);
    b[0] = 0xe9;
    b[1] = 3;
    b.writeUInt16LE(0x000d, 12);
    b[14] = 3; // min_chip_rev (legacy, major only)
    b.writeUInt16LE(301, 15); // min_chip_rev_full: v3.1
    b.writeUInt16LE(399, 17); // max_chip_rev_full: v3.99
    b[23] = 0;
    b.writeUInt32LE(0xabcd5432, 32);
    b.writeUInt32LE(7, 36); // secure_version
    b.fill(0, 48, 176);
    b.write('3.1.4', 48, 'ascii');
    b.write('thermostat', 80, 'ascii');
    b.write('08:15:00', 112, 'ascii');
    b.write('Mar  3 2026', 128, 'ascii');
    b.write('v5.2.2', 144, 'ascii');
    const parsed = parseEspAppImage(b);
    expect(parsed).toEqual({
      chipId: 0x000d,
      chip: 'esp32c6',
      segmentCount: 3,
      hashAppended: false,
      app: {
        chipId: 0x000d,
        version: '3.1.4',
        projectName: 'thermostat',
        compileTime: '08:15:00',
        compileDate: 'Mar  3 2026',
        idfVersion: 'v5.2.2',
        secureVersion: 7,
        minChipRev: 3,
        minChipRevFull: 301,
        maxChipRevFull: 399,
      },
    });
  });

  it('stops each string at its NUL and never reads into the next field', () => {
    const img = buildEspImage({ version: '1.0.0' });
    img.write('JUNK', 48 + 10, 'ascii'); // after the NUL terminating "1.0.0"
    expect(parseEspAppImage(img).app.version).toBe('1.0.0');
    // A field that fills all 32 bytes without a NUL is read in full and no further.
    const full = 'v'.repeat(32);
    img.write(full, 48, 'ascii');
    img.write('next-field', 80, 'ascii');
    img[90] = 0;
    expect(parseEspAppImage(img).app.version).toBe(full);
    expect(parseEspAppImage(img).app.projectName).toBe('next-field');
  });

  it('reads every descriptor field to its full width when it has no NUL', () => {
    const img = buildEspImage();
    const fields = {
      version: [48, 32, 'V'],
      projectName: [80, 32, 'P'],
      compileTime: [112, 16, 'T'],
      compileDate: [128, 16, 'D'],
      idfVersion: [144, 32, 'I'],
    } as const;
    for (const [offset, length, ch] of Object.values(fields)) img.fill(ch, offset, offset + length);
    img[176] = 0x41; // the byte after idf_ver (app_elf_sha256) must not leak in
    const app = parseEspAppImage(img).app;
    for (const [name, [, length, ch]] of Object.entries(fields)) {
      expect([name, app[name as keyof typeof fields]]).toEqual([name, ch.repeat(length)]);
    }
  });

  it('decodes UTF-8 project names', () => {
    const img = buildEspImage({ projectName: 'größe-µC' });
    expect(parseEspAppImage(img).app.projectName).toBe('größe-µC');
  });

  it('parses just the head of an image (what the ingest keeps), including from a view at an offset', () => {
    const img = buildEspImage({ chip: 'esp32c3', version: '9.9.9' });
    expect(parseEspAppImage(img.subarray(0, ESP_IMAGE_HEAD_BYTES)).app.version).toBe('9.9.9');
    // DataView must honour byteOffset: embed the head 5 bytes into a larger buffer.
    const outer = Buffer.concat([Buffer.from([1, 2, 3, 4, 5]), img.subarray(0, 512)]);
    const parsed = parseEspAppImage(new Uint8Array(outer.buffer, outer.byteOffset + 5, 512));
    expect(parsed.chipId).toBe(0x0005);
    expect(parsed.chip).toBe('esp32c3');
    expect(parsed.app.version).toBe('9.9.9');
  });

  it('rejects an image whose byte 0 is not 0xE9', () => {
    for (const magic of [0x00, 0xe8, 0xff, 0x7f]) {
      const e = domainError(() => parseEspAppImage(buildEspImage({ magic })));
      expect(e).toMatchObject({ kind: 'invalid', code: 'bad_image_magic' });
      expect(e.message).toContain(`0x${magic.toString(16).padStart(2, '0')}`);
    }
  });

  it('rejects an image without the app descriptor magic 0xABCD5432 at byte 32', () => {
    const e = domainError(() => parseEspAppImage(buildEspImage({ descriptorMagic: 0x12345678 })));
    expect(e).toMatchObject({ kind: 'invalid', code: 'bad_app_descriptor_magic' });
    expect(e.message).toContain('0x12345678');
    // The magic stored big-endian is not the magic.
    const be = buildEspImage();
    be.writeUInt32BE(0xabcd5432, 32);
    expect(domainError(() => parseEspAppImage(be)).code).toBe('bad_app_descriptor_magic');
    // Nor is the descriptor one byte off.
    const shifted = buildEspImage();
    shifted.writeUInt32LE(0, 32);
    shifted.writeUInt32LE(0xabcd5432, 33);
    expect(domainError(() => parseEspAppImage(shifted)).code).toBe('bad_app_descriptor_magic');
  });

  it('rejects a truncated image', () => {
    const whole = buildEspImage();
    for (const n of [0, 1, 24, 100, ESP_IMAGE_HEAD_BYTES - 1]) {
      const e = domainError(() => parseEspAppImage(whole.subarray(0, n)));
      expect(e).toMatchObject({ kind: 'invalid', code: 'image_too_small' });
      expect(e.message).toContain(`${n} bytes`);
    }
    expect(domainError(() => parseEspAppImage(buildEspImage({ size: 200 }))).code).toBe('image_too_small');
    expect(() => parseEspAppImage(whole.subarray(0, ESP_IMAGE_HEAD_BYTES))).not.toThrow();
  });
});

describe('validateAppImage', () => {
  it('rejects an image built for another chip, naming both', () => {
    const parsed = parseEspAppImage(buildEspImage({ chip: 'esp32c3' }));
    const r = validateAppImage(parsed, { chip: 'esp32s3', version: '1.0.0' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('chip_mismatch');
      expect(r.reason).toContain('esp32c3 (0x0005)');
      expect(r.reason).toContain('esp32s3 (0x0009)');
    }
  });

  it('rejects every wrong chip pairing', () => {
    for (const [built] of EXPECTED_CHIP_IDS) {
      const parsed = parseEspAppImage(buildEspImage({ chip: built }));
      for (const [product] of EXPECTED_CHIP_IDS) {
        const r = validateAppImage(parsed, { chip: product, version: '1.0.0' });
        expect([built, product, r.ok ? 'ok' : r.code]).toEqual([built, product, built === product ? 'ok' : 'chip_mismatch']);
      }
    }
  });

  it('rejects an unknown chip id', () => {
    const parsed = parseEspAppImage(buildEspImage({ chipId: 0x0042 }));
    expect(parsed.chip).toBeUndefined();
    expect(parsed.chipId).toBe(0x42);
    const r = validateAppImage(parsed, { chip: 'esp32', version: '1.0.0' });
    expect(r).toMatchObject({ ok: false, code: 'chip_mismatch' });
    if (!r.ok) expect(r.reason).toContain('an unknown chip (0x0042)');
  });

  it('rejects a version that differs from the manifest, quoting both', () => {
    const parsed = parseEspAppImage(buildEspImage({ version: '1.2.3' }));
    const r = validateAppImage(parsed, { chip: 'esp32', version: '1.2.4' });
    expect(r).toMatchObject({ ok: false, code: 'version_mismatch' });
    if (!r.ok) {
      expect(r.reason).toContain('"1.2.3"');
      expect(r.reason).toContain('"1.2.4"');
    }
    // The comparison is exact: an equal-ordering spelling is still a mismatch.
    expect(validateAppImage(parsed, { chip: 'esp32', version: 'v1.2.3' })).toMatchObject({ ok: false, code: 'version_mismatch' });
  });

  it('accepts a 31-character version (the longest that fits with its NUL)', () => {
    const v = `1.0.0-${'a'.repeat(25)}`;
    expect(v).toHaveLength(31);
    const parsed = parseEspAppImage(buildEspImage({ chip: 'esp32h2', version: v }));
    expect(validateAppImage(parsed, { chip: 'esp32h2', version: v })).toEqual({ ok: true });
  });

  it('checks the chip before the version', () => {
    const parsed = parseEspAppImage(buildEspImage({ chip: 'esp32', version: '1.0.0' }));
    expect(validateAppImage(parsed, { chip: 'esp32c6', version: '2.0.0' })).toMatchObject({ ok: false, code: 'chip_mismatch' });
  });
});
