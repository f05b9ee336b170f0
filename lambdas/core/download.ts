/**
 * Downloads the CDN served, as the local edge or CloudFront's standard logs saw them. A completed
 * download is evidence in the outcome model: a device that downloaded a whole image and comes
 * back on its old version failed to install it. Pure.
 */
import type { FileRole } from './model';

/**
 * Query parameter of a signed firmware URL that names the device it was issued to. It is part of
 * the signed resource, so it cannot be altered without breaking the signature, and it reaches the
 * CDN's logs (where nothing else names the device).
 */
export const DEVICE_URL_PARAM = 'd';

export interface ServedDownload {
  readonly productId: string;
  readonly build: number;
  readonly role: FileRole;
  /** The signed URL's device (`d`); absent when the URL named none (anonymous or too long to fit). */
  readonly deviceId?: string;
  /** When the response finished (ISO). */
  readonly at: string;
  /** HTTP status served: 200 (whole object) or 206 (a range). */
  readonly status: number;
  /** Body bytes delivered to the client. */
  readonly bytes: number;
  /** Last byte of a 206 range (inclusive), so a resumed download that reached the end counts as complete. */
  readonly rangeEnd?: number;
  /** The whole body was delivered (200 with every byte sent). */
  readonly complete: boolean;
}

/** Where served downloads go (the download service records them on the device's open offer). */
export interface DownloadSink {
  recordDownloads(downloads: readonly ServedDownload[]): Promise<void>;
}

const KEY_RE = /^([^/]+)\/(\d{1,10})\/(app|ui|ufw)\.(bin|ufw)$/;

/** `<productId>/<build>/<role>.bin` (see firmwareObjectKey) → its parts; undefined for any other key. */
export function parseFirmwareObjectKey(key: string): { productId: string; build: number; role: FileRole } | undefined {
  const m = KEY_RE.exec(key);
  if (!m) return undefined;
  return { productId: m[1], build: Number(m[2]), role: m[3] as FileRole };
}
