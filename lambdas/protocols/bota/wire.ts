/**
 * Bota: the device heartbeat that carries the OTA manifest of a pending assignment, and the
 * phone app's "is a newer release out for this model" lookup (bin for HTTP OTA, ufw for BLE).
 */
import * as z from 'zod/mini';
import { PRODUCT_ID_PATTERN } from '../../core/manifest';
import type { DetachedSignature, FirmwareFile } from '../../core/model';
import { isValidVersion } from '../../core/version';
import { signatureFields } from '../signature-fields';

export const HeartbeatSchema = z.object({
  product: z.string().check(z.regex(PRODUCT_ID_PATTERN)),
  firmware_version: z.optional(z.string().check(z.maxLength(64), z.refine(isValidVersion, 'must be a version'))),
  model: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  /** The device's outcome of the last OTA manifest it was sent. */
  ota_status: z.optional(z.enum(['downloading', 'installing', 'failed'])),
  ota_error: z.optional(z.string().check(z.maxLength(512))),
  token: z.optional(z.string().check(z.maxLength(256))),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export const ReleaseQuerySchema = z.object({
  current_version: z.string().check(z.maxLength(64), z.refine(isValidVersion, 'must be a version')),
  model: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  token: z.optional(z.string().check(z.maxLength(256))),
});

/** One downloadable artifact as Bota devices and apps read it (CRC32 for the device, SHA-256 for everyone). */
export const botaArtifact = (f: FirmwareFile, url: string, signature?: DetachedSignature) => ({
  url,
  size: f.size,
  crc32: f.crc32,
  sha256: f.sha256,
  ...signatureFields(signature),
});
