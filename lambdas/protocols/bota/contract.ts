/** Bota heartbeat and the app's release lookup. Pure: the contract entries of this protocol (see lambdas/contract/). */
import * as z from 'zod/mini';
import { operation } from '../../contract/operation';
import {
  str,
  count,
  buildNumber,
  timestamp,
  sha256,
  crc32,
  signedUrl,
  detachedSignatureShape,
  named,
  CHECK_STATUSES,
  deviceIdParam,
  productIdParam,
} from '../../contract/schema';
import { HeartbeatSchema, ReleaseQuerySchema } from './wire';

export const BotaHeartbeatRequest = named('BotaHeartbeatRequest', HeartbeatSchema);
const BotaArtifactShape = { url: signedUrl(), size: count(), crc32: crc32(), sha256: sha256() };
/** The app image: with the build's detached signature, which the device (or the app relaying it) verifies before booting it. */
const BotaAppShape = { ...BotaArtifactShape, ...detachedSignatureShape() };

export const BotaArtifact = named('BotaArtifact', z.object(BotaArtifactShape));
export const BotaHeartbeatResponse = named(
  'BotaHeartbeatResponse',
  z.object({
    ok: z.boolean().check(z.describe('false for unknown product/device or a failing credential')),
    status: z.enum(CHECK_STATUSES),
    server_time: timestamp(),
    next_heartbeat_s: count(),
    ota: z.nullable(z.object({ version: str(), build_number: buildNumber(), ...BotaAppShape, assignment_id: z.optional(str()) })),
  }),
);
export const BotaLatestRelease = named(
  'BotaLatestRelease',
  z.union([
    z.object({
      status: z.literal('update_available'),
      update_available: z.literal(true),
      version: str(),
      build_number: buildNumber(),
      notes: z.nullable(str()),
      released_at: z.nullable(timestamp()),
      bin: named('BotaAppArtifact', z.object(BotaAppShape)),
      ufw: z.nullable(BotaArtifact),
    }),
    z.object({ status: z.literal('no_update'), update_available: z.literal(false), current_version: str() }),
    z.object({ status: z.enum(['unknown_product', 'unauthorized']), update_available: z.literal(false) }),
  ]),
);

export const botaHeartbeat = operation({
  id: 'botaHeartbeat',
  method: 'POST',
  path: '/api/v1/devices/{deviceId}/heartbeat',
  fn: 'status',
  auth: 'none',
  adapterParses: true,
  tag: 'bota',
  summary: 'Bota heartbeat; carries the OTA manifest of a pending assignment',
  params: z.object({ deviceId: deviceIdParam() }),
  description:
    'Records the running version; while an assignment (or deployment offer) is pending the response carries its OTA manifest. Running the assigned version makes the assignment `applied`; `ota_status: failed` makes it `failed`.',
  body: { schema: BotaHeartbeatRequest, required: true },
  responses: {
    200: { description: 'Heartbeat recorded; `ota` is null without an offer', body: BotaHeartbeatResponse },
    400: 'BadRequest',
    413: 'PayloadTooLarge',
    503: 'Unavailable',
  },
});

export const botaLatestRelease = operation({
  id: 'botaLatestRelease',
  method: 'GET',
  path: '/api/v1/products/{productId}/releases/latest',
  fn: 'check',
  auth: 'none',
  adapterParses: true,
  tag: 'bota',
  summary: 'Bota app: is a newer release out for this model (bin + ufw)',
  params: z.object({ productId: productIdParam() }),
  description: "For the phone app's Bluetooth path: open and product_key products only (the app holds no per-device secret).",
  query: ReleaseQuerySchema,
  responses: {
    200: { description: 'Whether a newer RELEASED build exists for the model, with signed `bin` and `ufw` URLs', body: BotaLatestRelease },
    400: 'BadRequest',
    503: 'Unavailable',
  },
});

export const BOTA_OPERATIONS = [botaHeartbeat, botaLatestRelease] as const;
