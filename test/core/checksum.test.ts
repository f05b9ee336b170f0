import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { contentDigest, Crc32, digestStream, FileDigest } from '../../lambdas/core/checksum';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** zlib's CRC-32 (Node ≥ 22.2) as an independent oracle. */
const zlibCrc = (b: Uint8Array) => zlib.crc32(b).toString(16).padStart(8, '0');

/** Splits `data` at the given cut points (any order, duplicates allowed → empty chunks). */
const split = (data: Uint8Array, cuts: number[]): Uint8Array[] => {
  const points = [0, ...cuts.map((c) => Math.min(c, data.length)).sort((a, b) => a - b), data.length];
  return points.slice(1).map((end, i) => data.subarray(points[i], end));
};

describe('Crc32', () => {
  it('matches the CRC-32/IEEE check value: crc32("123456789") = cbf43926', () => {
    const c = new Crc32().update(bytes('123456789'));
    expect(c.hex()).toBe('cbf43926');
    expect(c.digest()).toBe(0xcbf43926);
  });

  it('matches other published values', () => {
    expect(new Crc32().hex()).toBe('00000000');
    expect(new Crc32().update(bytes('a')).hex()).toBe('e8b7be43');
    expect(new Crc32().update(bytes('The quick brown fox jumps over the lazy dog')).hex()).toBe('414fa339');
    expect(new Crc32().update(Buffer.alloc(32, 0)).hex()).toBe('190a55ad');
    expect(new Crc32().update(Buffer.alloc(32, 0xff)).hex()).toBe('ff6cab0b');
  });

  it('formats as 8 lower-case hex digits, keeping leading zeros', () => {
    // zlib.crc32("x31") = 0x001685f0
    const c = new Crc32().update(bytes('x31'));
    expect(c.digest()).toBe(0x001685f0);
    expect(c.hex()).toBe('001685f0');
    expect(new Crc32().update(bytes('a')).hex()).toMatch(/^[0-9a-f]{8}$/);
  });

  it('returns an unsigned value for CRCs with the top bit set', () => {
    const d = new Crc32().update(bytes('123456789')).digest();
    expect(d).toBeGreaterThan(0x7fffffff);
  });

  it('equals zlib.crc32 for any input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (data) => {
        const hex = new Crc32().update(data).hex();
        expect(hex).toBe(zlibCrc(data));
        expect(hex).toMatch(/^[0-9a-f]{8}$/);
      }),
    );
  });

  it('gives the same result updated incrementally as in one shot (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), fc.array(fc.nat(1024), { maxLength: 8 }), (data, cuts) => {
        const incremental = new Crc32();
        for (const chunk of split(data, cuts)) incremental.update(chunk);
        expect(incremental.hex()).toBe(new Crc32().update(data).hex());
      }),
    );
  });

  it('can be read repeatedly without changing state', () => {
    const c = new Crc32().update(bytes('12345'));
    const first = c.hex();
    expect(c.hex()).toBe(first);
    c.update(bytes('6789'));
    expect(c.hex()).toBe('cbf43926');
  });
});

describe('FileDigest', () => {
  it('accumulates size, sha256 and crc32 across chunks', () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff));
    const d = new FileDigest();
    for (const chunk of split(data, [1, 100, 100, 4096])) d.update(chunk);
    expect(d.result()).toEqual({ size: 5000, sha256: sha256(data), crc32: zlibCrc(data) });
  });

  it('keeps exactly the first headBytes and the last 32 bytes, however the data is chunked (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.array(fc.nat(1500), { maxLength: 10 }), fc.integer({ min: 0, max: 700 }), (data, cuts, headBytes) => {
        const d = new FileDigest(headBytes);
        for (const chunk of split(data, cuts)) d.update(chunk);
        expect(Buffer.from(d.head())).toEqual(Buffer.from(data.subarray(0, headBytes)));
        expect(Buffer.from(d.tail())).toEqual(Buffer.from(data.subarray(Math.max(0, data.length - 32))));
        expect(d.result().size).toBe(data.length);
      }),
    );
  });

  it('has the empty-input digests', () => {
    expect(new FileDigest().result()).toEqual({
      size: 0,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      crc32: '00000000',
    });
  });

  it('can report a result mid-stream and keep going', () => {
    const d = new FileDigest();
    d.update(bytes('hello '));
    expect(d.result().sha256).toBe(sha256(bytes('hello ')));
    d.update(bytes('world'));
    expect(d.result()).toEqual({ size: 11, sha256: sha256(bytes('hello world')), crc32: zlibCrc(bytes('hello world')) });
  });
});

describe('digestStream', () => {
  it('digests a multi-chunk stream like the one-shot hashes', async () => {
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251));
    const stream = Readable.from(split(data, [3, 1000, 1000, 65_536, 69_999]).map((c) => Buffer.from(c)));
    const r = await digestStream(stream);
    expect(r.size).toBe(70_000);
    expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(r.crc32).toBe(zlibCrc(data));
    expect(Buffer.from(r.head)).toEqual(data.subarray(0, 512));
    expect(Buffer.from(r.tail)).toEqual(data.subarray(70_000 - 32));
  });

  it('accepts any async iterable and a custom head size', async () => {
    async function* gen() {
      yield bytes('1234');
      yield new Uint8Array(0);
      yield bytes('56789');
    }
    const r = await digestStream(gen(), 3);
    expect(r).toEqual({
      size: 9,
      sha256: '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225',
      crc32: 'cbf43926',
      head: expect.anything(),
      tail: expect.anything(),
    });
    expect(Buffer.from(r.head).toString()).toBe('123');
    expect(Buffer.from(r.tail).toString()).toBe('123456789');
  });

  it('handles an empty stream', async () => {
    const r = await digestStream(Readable.from([]));
    expect(r.size).toBe(0);
    expect(r.crc32).toBe('00000000');
    expect(r.head).toHaveLength(0);
    expect(r.tail).toHaveLength(0);
  });
});

describe('contentDigest', () => {
  const files = [
    { name: 'ui.bin', sha256: 'b'.repeat(64) },
    { name: 'app.bin', sha256: 'a'.repeat(64) },
  ];

  it('is sha256 over "name\\0sha256\\n" of the files sorted by name', () => {
    const expected = sha256(bytes(`app.bin\0${'a'.repeat(64)}\nui.bin\0${'b'.repeat(64)}\n`));
    expect(contentDigest(files)).toBe(expected);
  });

  it('does not depend on input order and does not reorder its input', () => {
    const reversed = [...files].reverse();
    expect(contentDigest(reversed)).toBe(contentDigest(files));
    expect(files[0].name).toBe('ui.bin');
  });

  it('changes when a name or a hash changes', () => {
    const base = contentDigest(files);
    expect(contentDigest([{ ...files[0], sha256: 'c'.repeat(64) }, files[1]])).not.toBe(base);
    expect(contentDigest([{ ...files[0], name: 'ui2.bin' }, files[1]])).not.toBe(base);
    expect(contentDigest([files[0]])).not.toBe(base);
  });
});
