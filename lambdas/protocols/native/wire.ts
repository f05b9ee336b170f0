/**
 * The native device protocol (SimpleOTA-shaped): `POST /api/v1/ota/check/` and
 * `POST /api/v1/ota/status/`. Request schemas and response shapes; no I/O.
 * Devices may send extra fields (newer firmware, other clients): they are ignored, not rejected.
 */
import * as z from 'zod/mini';
import type { CheckDecision } from '../../core/check';
import { DEVICE_ID_PATTERN } from '../../core/device-id';
import { CHANNEL_PATTERN, PRODUCT_ID_PATTERN } from '../../core/manifest';
import { DEVICE_REPORT_STATUSES, type FirmwareFile } from '../../core/model';
import { isValidVersion } from '../../core/version';
import { signatureFields } from '../signature-fields';

const shortText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

export const CheckRequestSchema = z.object({
  product: z.string().check(z.regex(PRODUCT_ID_PATTERN)),
  device_id: z.string().check(z.regex(DEVICE_ID_PATTERN)),
  // Unparseable versions are refused (400), as every other protocol does: never stored or acted on.
  version: z.optional(shortText(64).check(z.refine(isValidVersion, 'must be a semver, calendar or numeric version'))),
  build: z.optional(z.int().check(z.gte(0), z.lte(2_147_483_647))),
  hw: z.optional(
    z.object({
      board: z.optional(shortText(64)),
      chip: z.optional(shortText(32)),
      revision: z.optional(z.union([shortText(32), z.number()])),
    }),
  ),
  channel: z.optional(z.string().check(z.regex(CHANNEL_PATTERN))),
  token: z.optional(shortText(256)),
  // esp_app_desc_t.secure_version is a uint32; anti-rollback eFuses hold far fewer bits, but the descriptor field is 32-bit.
  secure_version: z.optional(z.int().check(z.gte(0), z.lte(4_294_967_295))),
});
export type CheckRequest = z.infer<typeof CheckRequestSchema>;

export const StatusRequestSchema = z.object({
  product: z.string().check(z.regex(PRODUCT_ID_PATTERN)),
  device_id: z.string().check(z.regex(DEVICE_ID_PATTERN)),
  build_number: z.int().check(z.gte(1), z.lte(2_147_483_647)),
  status: z.enum(DEVICE_REPORT_STATUSES as unknown as ['downloading', 'installing', 'success', 'failed', 'rolled_back']),
  deployment_id: z.optional(shortText(64)),
  message: z.optional(z.string().check(z.maxLength(512))),
  token: z.optional(shortText(256)),
});
export type StatusRequest = z.infer<typeof StatusRequestSchema>;

/** A signed offer: the app image (and optional ui image) of the build to install. */
export interface SignedOffer {
  readonly app: FirmwareFile;
  readonly appUrl: string;
  readonly ui?: FirmwareFile;
  readonly uiUrl?: string;
  readonly ufw?: FirmwareFile;
  readonly ufwUrl?: string;
}

export interface NativeCheckResponse {
  readonly status: CheckDecision['status'];
  readonly update_available: boolean;
  /** Alias of update_available: SimpleOTAClient reads `update`. */
  readonly update: boolean;
  readonly next_check_s: number;
  readonly build_number?: number;
  readonly version?: string;
  readonly url?: string;
  readonly size?: number;
  readonly sha256?: string;
  readonly crc32?: string;
  readonly checksum?: string;
  readonly deployment_id?: string;
  readonly assignment_id?: string;
  readonly force?: boolean;
  readonly firmware_type?: string;
  readonly ui?: { readonly url: string; readonly size: number; readonly sha256: string; readonly crc32: string };
  readonly signature?: string;
  readonly signature_alg?: 'ecdsa-p256-sha256';
  readonly key_id?: string;
}

export function nativeCheckResponse(decision: CheckDecision, nextCheckS: number, offer?: SignedOffer): NativeCheckResponse {
  if (decision.status !== 'update_available' || !offer) {
    const status = decision.status === 'update_available' ? 'no_update' : decision.status;
    return { status, update_available: false, update: false, next_check_s: nextCheckS };
  }
  const d = decision.offer;
  return {
    status: 'update_available',
    update_available: true,
    update: true,
    next_check_s: nextCheckS,
    build_number: d.build,
    version: d.firmware.version,
    url: offer.appUrl,
    size: offer.app.size,
    sha256: offer.app.sha256,
    crc32: offer.app.crc32,
    checksum: `sha256:${offer.app.sha256}`,
    ...(d.deploymentId ? { deployment_id: d.deploymentId } : {}),
    ...(d.assignmentId ? { assignment_id: d.assignmentId } : {}),
    force: Boolean(d.force || d.firmware.force),
    firmware_type: d.firmware.firmwareType,
    ...(offer.ui && offer.uiUrl ? { ui: { url: offer.uiUrl, size: offer.ui.size, sha256: offer.ui.sha256, crc32: offer.ui.crc32 } } : {}),
    ...signatureFields(d.firmware.detachedSignature),
  };
}
