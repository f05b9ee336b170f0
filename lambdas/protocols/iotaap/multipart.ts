/**
 * A strict, bounded multipart/form-data parser (RFC 7578) for small operator uploads that arrive
 * whole in one Lambda event. No streaming needed: API Gateway has already buffered the body.
 */
import { DomainError } from '../../core/errors';

export interface FormPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

export function multipartBoundary(contentType: string | undefined): string {
  // The lookahead makes a boundary longer than RFC 2046's 70 characters fail here, instead of being
  // silently truncated (and then reported as a "malformed delimiter" in the body).
  const m = /^multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]{1,70})"|([^;\s"]{1,70}))(?=\s*(?:;|$))/i.exec(contentType ?? '');
  if (!m) throw new DomainError('unsupported_media_type', 'not_multipart', 'Content-Type must be multipart/form-data with a boundary');
  return m[1] ?? m[2]!;
}

export function parseMultipart(body: Buffer, boundary: string, maxParts = 16): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos === -1) throw new DomainError('invalid', 'invalid_multipart', 'Multipart body has no boundary');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts; // closing delimiter
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw new DomainError('invalid', 'invalid_multipart', 'Malformed multipart delimiter');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd === -1) throw new DomainError('invalid', 'invalid_multipart', 'Multipart part without headers');
    const headers = body.subarray(pos, headerEnd).toString('utf8').split('\r\n');
    // A part whose header block has no blank line must not borrow the next part's: the search for
    // "\r\n\r\n" would otherwise run past the next delimiter and merge two parts into one.
    if (headers.some((h) => h.startsWith(`--${boundary}`)))
      throw new DomainError('invalid', 'invalid_multipart', 'Multipart part without a header/body separator');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next === -1) throw new DomainError('invalid', 'invalid_multipart', 'Multipart body is truncated');
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (!name) throw new DomainError('invalid', 'invalid_multipart', 'Multipart part without a name');
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    const contentType = headers
      .find((h) => /^content-type:/i.test(h))
      ?.replace(/^content-type:/i, '')
      .trim();
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), ...(contentType ? { contentType } : {}), data: body.subarray(headerEnd + 4, next) });
    if (parts.length > maxParts) throw new DomainError('invalid', 'invalid_multipart', 'Too many multipart parts');
    pos = next + 2;
  }
}
