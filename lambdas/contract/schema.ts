/**
 * Building blocks of the HTTP contract: the primitive shapes every operation reuses, the domain's
 * enums as lists tsc keeps complete, and the shared error envelopes. Pure (zod/mini only), so CDK
 * code, the local gateway, the OpenAPI generator, the CLI and the browser can all import it.
 */
import * as z from 'zod/mini';
import type { CheckStatus } from '../core/check';
import { DEVICE_ID_PATTERN, normalizeDeviceId } from '../core/device-id';
import { PRODUCT_ID_PATTERN } from '../core/manifest';
import {
  CHIPS,
  HISTORY_STATUSES,
  type AssignmentState,
  type DeploymentState,
  type FileRole,
  type FirmwareState,
  type InferenceReason,
  type OfferOutcome,
  type Product,
  type SignatureForm,
  type SigningAlgorithm,
  type SigningPolicy,
} from '../core/model';

export const str = () => z.string();
export const count = () => z.number().check(z.int(), z.gte(0));
export const buildNumber = () => z.number().check(z.int(), z.gte(1), z.lte(2_147_483_647));
export const timestamp = () => z.string().check(z.describe('ISO-8601 UTC timestamp'));
export const sha256 = () => z.string().check(z.regex(/^[0-9a-f]{64}$/), z.describe('SHA-256, lower-case hex'));
/** The detached signature an offer carries when the build has one (native check, Bota manifest): spread into a response object. */
export const detachedSignatureShape = () => ({
  signature: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9+/]{1,128}={0,2}$/),
        z.describe('ECDSA P-256 signature over the SHA-256 of the downloaded file: DER, base64 (at most 96 characters)'),
      ),
  ),
  signature_alg: z.optional(z.literal('ecdsa-p256-sha256')),
  key_id: z.optional(sha256().check(z.describe('SHA-256 of the signing public key (see `GET …/signing-keys`)'))),
});
export const crc32 = () => z.string().check(z.regex(/^[0-9a-f]{8}$/), z.describe('CRC-32 (IEEE), 8 lower-case hex digits'));
export const signedUrl = () => z.string().check(z.describe('Signed, short-lived CDN URL of the file'));
export const chip = () => z.enum(CHIPS as unknown as [string, ...string[]]);

/* Path parameters: they become keys, so each has a pattern. */
export const productIdParam = () => z.string().check(z.regex(PRODUCT_ID_PATTERN), z.describe('Product id'));
/** Parsed and normalised once, here, wherever a device id enters through a path. */
export const deviceIdParam = () =>
  z
    .pipe(z.string().check(z.regex(DEVICE_ID_PATTERN)), z.transform(normalizeDeviceId))
    .check(z.describe('Device id (MACs in any common spelling are normalised to AA:BB:CC:DD:EE:FF)'));
export const buildParam = () => z.string().check(z.regex(/^\d{1,10}$/), z.describe('Build number (per product, monotonic)'));
export const keyIdParam = () => z.string().check(z.regex(/^[0-9a-f]{64}$/), z.describe('Signing key id: SHA-256 of the public key, lower-case hex'));
export const deploymentIdParam = () => z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/), z.describe('Deployment id'));

/**
 * The members of a string union as an enum list. tsc fails right here when the union gains a member
 * the list lacks, so a new status or state cannot go undocumented.
 */
export const everyOf =
  <U extends string>() =>
  <const L extends readonly U[]>(list: L & ([Exclude<U, L[number]>] extends [never] ? unknown : { readonly missing: Exclude<U, L[number]> })) =>
    list as unknown as [U, ...U[]];

export const CHECK_STATUSES = everyOf<CheckStatus>()(['update_available', 'no_update', 'inactive', 'unknown_product', 'unknown_device', 'over_limit']);
export const FIRMWARE_STATES = everyOf<FirmwareState>()(['DRAFT', 'RELEASED', 'REVOKED']);
export const FILE_ROLES = everyOf<FileRole>()(['app', 'ui', 'ufw']);
export const DEPLOYMENT_STATES = everyOf<DeploymentState>()(['active', 'paused', 'completed', 'cancelled']);
export const ASSIGNMENT_STATES = everyOf<AssignmentState>()(['pending', 'delivered', 'applied', 'failed']);
export const OFFER_OUTCOMES = everyOf<OfferOutcome>()(['succeeded', 'failed', 'rolled_back', 'timed_out']);
export const INFERENCE_REASONS = everyOf<InferenceReason>()(['checked_in_on_offered_build', 'returned_on_old_version', 'called_again_after_download']);
export const SECURITY_MODES = everyOf<Product['securityMode']>()(['open', 'product_key', 'device_token']);
export const SIGNING_POLICY_LIST = everyOf<SigningPolicy>()(['off', 'optional', 'required']);
export const SIGNING_ALGORITHM_LIST = everyOf<SigningAlgorithm>()(['rsa-3072', 'rsa-4096', 'ecdsa-p256']);
export const SIGNATURE_FORMS = everyOf<SignatureForm>()(['secure_boot_v2', 'esp32fota', 'detached']);
export const HISTORY_STATUS_LIST = HISTORY_STATUSES as unknown as [string, ...string[]];

/**
 * Names a schema: the OpenAPI document lists it under `#/components/schemas/<id>` and refers to it
 * wherever an operation uses it.
 */
export const CONTRACT_SCHEMAS = z.registry<{ id: string }>();
/** Descriptions of named schemas (kept beside the registry: toJSONSchema reads only its ids). */
export const SCHEMA_DESCRIPTIONS = new Map<string, string>();
export function named<S extends z.ZodMiniType>(id: string, schema: S, description?: string): S {
  CONTRACT_SCHEMAS.add(schema, { id });
  if (description) SCHEMA_DESCRIPTIONS.set(id, description);
  return schema;
}

/** lambdas/shared/http.ts `errorBody`: every DomainError of the shared mapping, and the 503. */
export const ErrorBody = named(
  'Error',
  z.object({
    error: z.object({
      code: str().check(z.describe('Stable machine-readable code, e.g. `validation_failed`, `invalid_json`, `product_not_found`, `unavailable`')),
      message: str(),
      details: z.optional(z.unknown().check(z.describe('E.g. `{ fields: [...] }` for `validation_failed`'))),
    }),
  }),
  'The shared error envelope: DomainError → its 4xx; infrastructure faults → 503 `unavailable` with Retry-After.',
);

/** API Gateway's own bodies (IAM authorisation failure, payload over 10 MB, no route). */
export const GatewayMessage = named('GatewayMessage', z.object({ message: str() }), "API Gateway's own body (IAM authorisation failure, payload over 10 MB).");
