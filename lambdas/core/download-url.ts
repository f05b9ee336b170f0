/**
 * Firmware object keys and the device-side limits on download URLs.
 *
 * ESP-IDF's HTTP client holds the whole request line (`GET <path>?<query> HTTP/1.1`) in a
 * 512-byte buffer by default. A CloudFront signed URL spends ~400 bytes on its query (a
 * 2048-bit RSA signature is 344 base64 characters), so object keys must stay short: they are
 * `<productId>/<build>/<role>.bin` (≤ 32 + 1 + 10 + 1 + 7 bytes), immutable per build.
 */
import type { FileRole } from './model';

export const MAX_REQUEST_LINE_BYTES = 512;

/** Immutable key of a build's file in the firmware bucket. */
export const firmwareObjectKey = (productId: string, build: number, role: FileRole): string =>
  `${productId}/${build}/${role}.${role === 'ufw' ? 'ufw' : 'bin'}`;

/** Bytes of the HTTP/1.1 request line a device sends to fetch `url`. */
export function requestLineBytes(url: string): number {
  const u = new URL(url);
  return Buffer.byteLength(`GET ${u.pathname}${u.search} HTTP/1.1`);
}

export const fitsRequestLine = (url: string): boolean => requestLineBytes(url) <= MAX_REQUEST_LINE_BYTES;
