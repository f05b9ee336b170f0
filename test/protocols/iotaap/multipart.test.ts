/** The strict multipart/form-data parser behind IoTaaP's firmware upload (RFC 7578 / RFC 2046). */
import { isDomainError } from '../../../lambdas/core/errors';
import { multipartBoundary, parseMultipart } from '../../../lambdas/protocols/iotaap/multipart';

const B = 'XyZzy-boundary';
const part = (disposition: string, data: Buffer | string, extra = '') =>
  Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; ${disposition}\r\n${extra}\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
const close = Buffer.from(`--${B}--\r\n`);
const body = (...parts: Buffer[]) => Buffer.concat([...parts, close]);

/** The DomainError a call throws (fails the test when it does not throw one). */
function domainError(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isDomainError(e)) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('multipartBoundary', () => {
  it('reads a plain boundary', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----formdata-undici-012345678901')).toBe('----formdata-undici-012345678901');
  });

  it('reads a quoted boundary (which may contain spaces)', () => {
    expect(multipartBoundary('multipart/form-data; boundary="a b:c"')).toBe('a b:c');
  });

  it('finds the boundary among other parameters, case-insensitively', () => {
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; BOUNDARY=abc')).toBe('abc');
    expect(multipartBoundary('multipart/form-data; boundary=abc; charset=utf-8')).toBe('abc');
  });

  it('refuses anything that is not multipart/form-data with a boundary (415 kind)', () => {
    for (const ct of [undefined, '', 'application/json', 'multipart/form-data', 'multipart/mixed; boundary=abc', 'text/plain; boundary=abc']) {
      const e = domainError(() => multipartBoundary(ct));
      expect(e.kind).toBe('unsupported_media_type');
      expect(e.code).toBe('not_multipart');
    }
  });

  it('accepts a 70-character boundary and refuses a longer one instead of truncating it', () => {
    expect(multipartBoundary(`multipart/form-data; boundary=${'a'.repeat(70)}`)).toBe('a'.repeat(70));
    expect(() => multipartBoundary(`multipart/form-data; boundary=${'a'.repeat(71)}`)).toThrow(/boundary/);
    expect(() => multipartBoundary(`multipart/form-data; boundary="${'a'.repeat(71)}"`)).toThrow(/boundary/);
  });
});

describe('parseMultipart', () => {
  it('parses text fields and a file part with its filename and content type', () => {
    const parts = parseMultipart(
      body(
        part('name="device"', '5e1b57808711f904f5df4bad'),
        part('name="firmware"; filename="firmware.bin"', Buffer.from([0xe9, 0, 1, 2]), 'Content-Type: application/octet-stream\r\n'),
      ),
      B,
    );
    expect(parts).toHaveLength(2);
    expect(parts[0]).toEqual({ name: 'device', data: Buffer.from('5e1b57808711f904f5df4bad') });
    expect(parts[1]).toMatchObject({ name: 'firmware', filename: 'firmware.bin', contentType: 'application/octet-stream' });
    expect([...parts[1].data]).toEqual([0xe9, 0, 1, 2]);
  });

  it('keeps binary data byte-exact, including CRLFs, dashes and a boundary-like string not preceded by CRLF', () => {
    const data = Buffer.concat([Buffer.from('\r\n\r\n--'), Buffer.from(`x--${B}y`), Buffer.from([0, 255, 13, 10, 45, 45]), Buffer.from('\r\n')]);
    const [p] = parseMultipart(body(part('name="firmware"; filename="f.bin"', data)), B);
    expect(p.data.equals(data)).toBe(true);
  });

  it('an empty part has empty data; an empty filename is still a file part', () => {
    const parts = parseMultipart(body(part('name="token"', ''), part('name="firmware"; filename=""', '')), B);
    expect(parts[0].data.length).toBe(0);
    expect(parts[1]).toMatchObject({ name: 'firmware', filename: '' });
    expect(parts[1].data.length).toBe(0);
  });

  it('ignores a preamble and an epilogue', () => {
    const parts = parseMultipart(Buffer.concat([Buffer.from('this is a preamble\r\n'), part('name="a"', '1'), Buffer.from(`--${B}--\r\nepilogue`)]), B);
    expect(parts.map((p) => [p.name, p.data.toString()])).toEqual([['a', '1']]);
  });

  it('header names are case-insensitive and a content type keeps its parameters (colons included)', () => {
    const raw = Buffer.concat([Buffer.from(`--${B}\r\ncontent-disposition: form-data; name="a"\r\nCONTENT-TYPE: text/plain; x="a:b"\r\n\r\nv\r\n`), close]);
    expect(parseMultipart(raw, B)[0]).toMatchObject({ name: 'a', contentType: 'text/plain; x="a:b"' });
  });

  it('filename="…" is not mistaken for name="…"', () => {
    const [p] = parseMultipart(body(part('filename="firmware.bin"; name="firmware"', 'x')), B);
    expect(p).toMatchObject({ name: 'firmware', filename: 'firmware.bin' });
  });

  it('an empty body, or one without the boundary, is invalid', () => {
    expect(domainError(() => parseMultipart(Buffer.alloc(0), B)).code).toBe('invalid_multipart');
    expect(domainError(() => parseMultipart(Buffer.from('device=1&token=2'), B)).code).toBe('invalid_multipart');
  });

  it('a truncated body (no closing delimiter after a part) is invalid', () => {
    const raw = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue without end`);
    expect(domainError(() => parseMultipart(raw, B)).message).toMatch(/truncated/);
    const cut = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--${B}`);
    expect(domainError(() => parseMultipart(cut, B)).kind).toBe('invalid');
  });

  it('a part without headers, without a name, or with garbage after the delimiter is invalid', () => {
    expect(domainError(() => parseMultipart(Buffer.from(`--${B}\r\nContent-Disposition: form-data`), B)).message).toMatch(/without headers/);
    expect(domainError(() => parseMultipart(body(part('filename="x.bin"', 'x')), B)).message).toMatch(/without a name/);
    expect(domainError(() => parseMultipart(Buffer.from(`--${B}garbage\r\n`), B)).message).toMatch(/delimiter/);
  });

  it("a part missing its blank line does not swallow the next part's headers", () => {
    const raw = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="a"\r\nno blank line\r\n--${B}\r\nContent-Disposition: form-data; name="b"\r\n\r\nv\r\n--${B}--\r\n`,
    );
    expect(domainError(() => parseMultipart(raw, B)).code).toBe('invalid_multipart');
  });

  it('caps the number of parts', () => {
    const many = (n: number) => body(...Array.from({ length: n }, (_, i) => part(`name="f${i}"`, String(i))));
    expect(parseMultipart(many(16), B)).toHaveLength(16);
    expect(domainError(() => parseMultipart(many(17), B)).message).toMatch(/Too many/);
    expect(parseMultipart(many(3), B, 3)).toHaveLength(3);
    expect(() => parseMultipart(many(4), B, 3)).toThrow(/Too many/);
  });

  it('round-trips what the global FormData encodes', async () => {
    const form = new FormData();
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff));
    form.append('firmware', new Blob([bytes]), 'firmware.bin');
    form.append('device', '5e1b57808711f904f5df4bad');
    form.append('version', '1.2.7');
    const req = new Request('http://x/', { method: 'POST', body: form });
    const boundary = multipartBoundary(req.headers.get('content-type')!);
    const parts = parseMultipart(Buffer.from(await req.arrayBuffer()), boundary);
    expect(parts.map((p) => p.name)).toEqual(['firmware', 'device', 'version']);
    expect(parts[0].filename).toBe('firmware.bin');
    expect(parts[0].data.equals(bytes)).toBe(true);
    expect(parts[2].data.toString()).toBe('1.2.7');
  });
});
