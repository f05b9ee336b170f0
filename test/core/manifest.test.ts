import { classifyFiles, IngestManifestSchema, parseIngestManifest } from '../../lambdas/core/manifest';
import { domainError } from '../support/domain-error';

const SHA = 'a'.repeat(64);
const valid = () => ({
  product: 'ctrl',
  version: '1.2.3',
  files: [{ name: 'Controller.ino.bin', sha256: SHA }, { name: 'ui.bin' }],
});

describe('IngestManifestSchema', () => {
  it('accepts a minimal manifest and one with every optional field', () => {
    expect(IngestManifestSchema.safeParse({ product: 'p', version: '1', files: [{ name: 'a.bin' }] }).success).toBe(true);
    const full = {
      ...valid(),
      firmware_type: 'esp32-fota-http',
      notes: 'Fixes the relay flicker',
      channel: 'beta',
      release: true,
    };
    const r = IngestManifestSchema.safeParse(full);
    expect(r.success).toBe(true);
    if (r.success) expect(r.data).toEqual(full);
  });

  it.each(['product', 'version', 'files'])('requires %s', (field) => {
    const m: Record<string, unknown> = valid();
    delete m[field];
    const r = IngestManifestSchema.safeParse(m);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('rejects unknown top-level fields (a CI typo must fail loudly)', () => {
    const r = IngestManifestSchema.safeParse({ ...valid(), chanel: 'beta' });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['chanel'] });
  });

  it('rejects unknown fields inside a file entry', () => {
    const r = IngestManifestSchema.safeParse({ ...valid(), files: [{ name: 'a.bin', md5: 'x' }] });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['md5'], path: ['files', 0] });
  });

  it.each([
    ['upper-case product', { product: 'Ctrl' }],
    ['product starting with a dash', { product: '-ctrl' }],
    ['product longer than 32 characters', { product: 'p'.repeat(33) }],
    ['empty product', { product: '' }],
    ['numeric product', { product: 12 }],
    ['unparsable version', { version: 'latest' }],
    ['empty version', { version: '' }],
    ['numeric version (must be a string)', { version: 1 }],
    ['empty files', { files: [] }],
    ['17 files', { files: Array.from({ length: 17 }, (_, i) => ({ name: `f${i}.bin` })) }],
    ['duplicate file names', { files: [{ name: 'a.bin' }, { name: 'a.bin' }] }],
    ['a path instead of a file name', { files: [{ name: 'build/a.bin' }] }],
    ['a hidden file name', { files: [{ name: '.a.bin' }] }],
    ['a short sha256', { files: [{ name: 'a.bin', sha256: 'a'.repeat(63) }] }],
    ['a non-hex sha256', { files: [{ name: 'a.bin', sha256: 'g'.repeat(64) }] }],
    ['an empty firmware_type', { firmware_type: '' }],
    ['a firmware_type over 64 characters', { firmware_type: 't'.repeat(65) }],
    ['an upper-case channel', { channel: 'Beta' }],
    ['notes over 2000 characters', { notes: 'n'.repeat(2001) }],
    ['a non-boolean release', { release: 'yes' }],
  ])('rejects %s', (_label, over) => {
    const r = IngestManifestSchema.safeParse({ ...valid(), ...over });
    expect(r.success).toBe(false);
    // …and for the field under test, not for something else.
    if (!r.success) expect(r.error.issues.map((i) => i.path[0])).toContain(Object.keys(over)[0]);
  });

  it('accepts the boundary values', () => {
    const ok = (over: object) => expect(IngestManifestSchema.safeParse({ ...valid(), ...over }).success).toBe(true);
    ok({ product: 'p'.repeat(32) });
    ok({ product: '0_a-b' });
    ok({ files: Array.from({ length: 16 }, (_, i) => ({ name: `f${i}.bin` })) });
    ok({ files: [{ name: 'a.bin', sha256: 'ABCDEF0123456789'.repeat(4) }] });
    ok({ firmware_type: 't'.repeat(64) });
    ok({ notes: 'n'.repeat(2000) });
    ok({ version: '2026.03.001' });
    ok({ version: '42' });
  });
});

describe('parseIngestManifest', () => {
  it('parses valid JSON into the manifest', () => {
    expect(parseIngestManifest(JSON.stringify(valid()))).toEqual(valid());
  });

  it('rejects text that is not JSON with invalid_json', () => {
    expect(domainError(() => parseIngestManifest('{"product": '))).toMatchObject({ kind: 'invalid', code: 'invalid_json' });
    expect(domainError(() => parseIngestManifest(''))).toMatchObject({ code: 'invalid_json' });
  });

  it('rejects JSON that is not a manifest with invalid_manifest', () => {
    for (const text of ['null', '[]', '"x"', '{}']) {
      expect(domainError(() => parseIngestManifest(text))).toMatchObject({ kind: 'invalid', code: 'invalid_manifest' });
    }
  });

  it('names unknown fields and the path of each problem', () => {
    const e = domainError(() => parseIngestManifest(JSON.stringify({ ...valid(), relase: true })));
    expect(e.code).toBe('invalid_manifest');
    expect(e.message).toContain('unknown field(s) relase');
    const f = domainError(() => parseIngestManifest(JSON.stringify({ ...valid(), files: [{ name: 'a.bin', sha256: 'xyz' }] })));
    expect(f.message).toContain('files.0.sha256');
    const v = domainError(() => parseIngestManifest(JSON.stringify({ ...valid(), version: 'one' })));
    expect(v.message).toContain('version');
  });
});

describe('classifyFiles', () => {
  it('takes the single other *.bin as the app and ui.bin as the ui image', () => {
    expect(classifyFiles(['Controller.ino.bin', 'ui.bin'])).toEqual({ app: 'Controller.ino.bin', ui: 'ui.bin', excluded: [] });
  });

  it('has no ui without ui.bin', () => {
    const c = classifyFiles(['firmware.bin']);
    expect(c).toEqual({ app: 'firmware.bin', excluded: [] });
    expect('ui' in c).toBe(false);
  });

  it('excludes config.bin, manifest.json, *.bootloader.bin and *.partitions.bin, in input order', () => {
    const names = ['manifest.json', 'Controller.ino.bootloader.bin', 'Controller.ino.bin', 'config.bin', 'Controller.ino.partitions.bin', 'ui.bin'];
    expect(classifyFiles(names)).toEqual({
      app: 'Controller.ino.bin',
      ui: 'ui.bin',
      excluded: ['manifest.json', 'Controller.ino.bootloader.bin', 'config.bin', 'Controller.ino.partitions.bin'],
    });
  });

  it('excludes the bare names an ESP-IDF or Arduino-ESP32 3.x build folder holds next to the app', () => {
    const names = ['bootloader.bin', 'partition-table.bin', 'ota_data_initial.bin', 'partitions.bin', 'app.ino.merged.bin', 'app.ino.bin'];
    expect(classifyFiles(names)).toEqual({ app: 'app.ino.bin', excluded: names.filter((n) => n !== 'app.ino.bin') });
  });

  it('does not treat names that merely resemble the excluded ones as excluded', () => {
    // "my-config.bin" is not "config.bin", and "x.bootloader.bin.bak" is not a .bin at all.
    expect(classifyFiles(['my-config.bin']).app).toBe('my-config.bin');
    expect(domainError(() => classifyFiles(['a.bin', 'x.bootloader.bin.bak'])).code).toBe('unsupported_file');
    // ui.bin must be named exactly so; "my-ui.bin" is an application candidate.
    expect(domainError(() => classifyFiles(['a.bin', 'my-ui.bin'])).code).toBe('multiple_app_images');
  });

  it('rejects two application candidates, naming both', () => {
    const e = domainError(() => classifyFiles(['a.bin', 'ui.bin', 'b.bin']));
    expect(e).toMatchObject({ kind: 'invalid', code: 'multiple_app_images' });
    expect(e.message).toContain('a.bin');
    expect(e.message).toContain('b.bin');
  });

  it('rejects a release without an application image', () => {
    for (const names of [[], ['ui.bin'], ['config.bin', 'manifest.json', 'x.bootloader.bin', 'x.partitions.bin'], ['pkg.ufw']]) {
      expect(domainError(() => classifyFiles(names))).toMatchObject({ kind: 'invalid', code: 'no_app_image' });
    }
  });

  it('rejects any file that is not a .bin, a .ufw or manifest.json, naming it', () => {
    for (const name of ['README.md', 'firmware.elf', 'firmware.BIN', 'firmware', 'other.json', 'pkg.UFW']) {
      const e = domainError(() => classifyFiles(['app.bin', name]));
      expect(e).toMatchObject({ kind: 'invalid', code: 'unsupported_file' });
      expect(e.message).toContain(name);
    }
  });

  it('classifies one .ufw as the Bluetooth package, alongside the app', () => {
    expect(classifyFiles(['app.bin', 'device.ufw'])).toEqual({ app: 'app.bin', ufw: 'device.ufw', excluded: [] });
    expect(classifyFiles(['device.ufw', 'app.bin', 'ui.bin', 'manifest.json'])).toEqual({
      app: 'app.bin',
      ui: 'ui.bin',
      ufw: 'device.ufw',
      excluded: ['manifest.json'],
    });
    expect('ufw' in classifyFiles(['app.bin'])).toBe(false);
  });

  it('rejects more than one .ufw package, naming them', () => {
    const e = domainError(() => classifyFiles(['app.bin', 'a.ufw', 'b.ufw']));
    expect(e).toMatchObject({ kind: 'invalid', code: 'multiple_ufw_packages' });
    expect(e.message).toContain('a.ufw');
    expect(e.message).toContain('b.ufw');
  });

  it('does not depend on the order of the names', () => {
    const names = ['ui.bin', 'config.bin', 'fw.bin', 'fw.ufw'];
    const reversed = classifyFiles([...names].reverse());
    const forward = classifyFiles(names);
    expect({ ...reversed, excluded: [] }).toEqual({ ...forward, excluded: [] });
    expect(reversed.app).toBe('fw.bin');
  });
});
