/**
 * The operator API (IAM / SigV4 in the cloud; loopback, same-origin JSON locally): the shapes it
 * answers with — the presenters in lambdas/core/admin-api.ts are typed by them — and one
 * declaration per operation.
 */
import * as z from 'zod/mini';
import { TOKEN_LENGTH } from '../core/security';
import { operation } from './operation';
import {
  AddSigningKeySchema,
  AssignSchema,
  ClearFailedBuildsQuerySchema,
  CreateDeploymentSchema,
  DeviceListQuerySchema,
  FirmwareListQuerySchema,
  PatchDeviceSchema,
  PromoteSchema,
  PutProductSchema,
} from './operator-wire';
import {
  ASSIGNMENT_STATES,
  DEPLOYMENT_STATES,
  FILE_ROLES,
  FIRMWARE_STATES,
  HISTORY_STATUS_LIST,
  INFERENCE_REASONS,
  OFFER_OUTCOMES,
  SECURITY_MODES,
  SIGNATURE_FORMS,
  SIGNING_ALGORITHM_LIST,
  SIGNING_POLICY_LIST,
  ErrorBody,
  buildNumber,
  buildParam,
  deploymentIdParam,
  deviceIdParam,
  keyIdParam,
  productIdParam,
  chip,
  count,
  crc32,
  named,
  sha256,
  str,
  timestamp,
} from './schema';

/* ───────────────────────────── path parameters ───────────────────────────── */

const productParams = z.object({ productId: productIdParam() });
const firmwareParams = z.object({ productId: productIdParam(), build: buildParam() });
const deploymentParams = z.object({ productId: productIdParam(), deploymentId: deploymentIdParam() });
const keyParams = z.object({ productId: productIdParam(), keyId: keyIdParam() });
const deviceParams = z.object({ productId: productIdParam(), deviceId: deviceIdParam() });

/* ───────────────────────────── views ───────────────────────────── */

export const Product = named(
  'Product',
  z.object({
    product_id: str(),
    name: str(),
    chip: chip(),
    firmware_type: z.nullable(str()),
    auto_register: z.boolean(),
    security_mode: z.enum(SECURITY_MODES),
    product_key_set: z.boolean(),
    previous_product_key_accepted: z.boolean(),
    poll_interval_s: count(),
    device_quota: z.nullable(count().check(z.describe('Most devices the product may register; beyond it a new device gets `over_limit`'))),
    device_selects_channel: z.boolean().check(z.describe('Devices may move themselves to the channel they send; otherwise the operator-set channel wins')),
    max_image_size: count().check(z.describe('Largest app image the ingest accepts (bytes; default 6553600 = 0x640000)')),
    signing: z
      .enum(SIGNING_POLICY_LIST)
      .check(z.describe('`off`: signatures ignored; `optional`: verified when present; `required`: unsigned builds rejected')),
    platform_signing: z.boolean().check(z.describe("The stack's KMS key signs every accepted build (detached ECDSA P-256)")),
    protocols: z.object({
      firefly: z.optional(z.object({ product_class: str(), product_hex: str() })),
      cheeko: z.optional(z.object({ application: str(), default: z.boolean() })),
      iotaap: z.optional(z.literal(true)),
    }),
    created_at: timestamp(),
    updated_at: timestamp(),
  }),
);
export const Firmware = named(
  'Firmware',
  z.object({
    product_id: str(),
    build_number: buildNumber(),
    version: str(),
    state: z.enum(FIRMWARE_STATES),
    firmware_type: str(),
    channel: z.nullable(str()),
    files: z.array(
      z.object({
        role: z.enum(FILE_ROLES),
        name: str(),
        key: str().check(z.describe('Object key in the firmware bucket')),
        size: count(),
        sha256: sha256(),
        crc32: crc32(),
      }),
    ),
    app: z
      .object({
        project_name: str(),
        version: str(),
        idf_version: str(),
        chip_id: count(),
        compile_date: z.nullable(str()),
        compile_time: z.nullable(str()),
        secure_version: z.nullable(count().check(z.describe('esp_app_desc_t.secure_version (anti-rollback)'))),
        min_chip_rev: z.nullable(count().check(z.describe('esp_image_header_t.min_chip_rev (major revision, legacy)'))),
        min_chip_rev_full: z.nullable(count().check(z.describe('esp_image_header_t.min_chip_rev_full (major × 100 + minor)'))),
        max_chip_rev_full: z.nullable(count().check(z.describe('esp_image_header_t.max_chip_rev_full (major × 100 + minor; 65535 = no limit)'))),
      })
      .check(z.describe("The image's esp_app_desc_t")),
    notes: z.nullable(str()),
    boards: z.nullable(z.array(str())),
    force: z.boolean(),
    image_hash: z.nullable(sha256()),
    signature: z.nullable(
      z
        .object({
          form: z.enum(SIGNATURE_FORMS),
          key_ids: z.array(sha256()).check(z.describe('The registered, active keys whose signatures verified')),
          algorithm: z.enum(SIGNING_ALGORITHM_LIST),
          image_offset: count().check(z.describe('Where the ESP image starts in the file (esp32FOTA: 512, after the signature)')),
          platform: z.boolean().check(z.describe("Signed at ingest by the platform's key")),
          verified_at: timestamp(),
        })
        .check(z.describe('How ingest verified the build; null: unsigned')),
    ),
    detached_signature: z.nullable(
      z.object({ signature: str(), signature_alg: z.literal('ecdsa-p256-sha256'), key_id: sha256() }).check(z.describe('Handed to devices with the offer')),
    ),
    compatibility: z.object({
      hw_revision_min: z.nullable(z.number()),
      hw_revision_max: z.nullable(z.number()),
      min_version: z.nullable(str()),
      required_step: z.boolean().check(z.describe('Devices below this version are offered it before anything newer')),
    }),
    source: str().check(z.describe('Ingest object key of the manifest.json that produced the build')),
    created_at: timestamp(),
    released_at: z.nullable(timestamp()),
    revoked_at: z.nullable(timestamp()),
  }),
);
export const ReleasedFirmware = named(
  'ReleasedFirmware',
  z.intersection(
    Firmware,
    z.object({
      warnings: z.array(str()).check(z.describe('E.g. the build raises secure_version: a device burns its anti-rollback eFuse for good once it boots it')),
    }),
  ),
);
export const SigningKey = named(
  'SigningKey',
  z.object({
    key_id: sha256().check(z.describe('SHA-256 of the public key as a Secure Boot v2 eFuse holds it (RSA-4096: of the SPKI DER)')),
    algorithm: z.enum(SIGNING_ALGORITHM_LIST),
    name: z.nullable(str()),
    origin: z.enum(['operator', 'platform']),
    state: z.enum(['active', 'revoked']),
    public_key: str().check(z.describe('SPKI PEM')),
    added_at: timestamp(),
    revoked_at: z.nullable(timestamp()),
  }),
);
export const SigningKeyList = named('SigningKeyList', z.object({ items: z.array(SigningKey) }));
export const RevokedSigningKey = named(
  'RevokedSigningKey',
  z.intersection(
    SigningKey,
    z.object({
      paused_deployments: z
        .array(str())
        .check(z.describe('Active deployments of builds no other active key vouches for, now paused (reason signing_key_revoked)')),
    }),
  ),
);
export const RevokedFirmware = named(
  'RevokedFirmware',
  z.intersection(
    Firmware,
    z.object({ paused_deployments: z.array(str()).check(z.describe('Active deployments of the build, now paused (reason firmware_revoked)')) }),
  ),
);
export const FirmwareList = named(
  'FirmwareList',
  z.object({ items: z.array(Firmware), cursor: z.nullable(str().check(z.describe('Pass as `cursor` for the next page'))) }),
);
export const Deployment = named(
  'Deployment',
  z.object({
    product_id: str(),
    deployment_id: str(),
    build_number: buildNumber(),
    version: str(),
    channel: str(),
    groups: z.array(str()).check(z.describe('Device groups targeted; empty: every device of the channel')),
    percentage: z.number().check(z.gte(0), z.lte(100)),
    seed: str(),
    force: z.boolean(),
    state: z.enum(DEPLOYMENT_STATES),
    state_reason: z.nullable(str()),
    auto_pauses: count().check(z.describe('Times the failure policy paused the deployment')),
    policy: z.object({
      max_failures: z.nullable(count()),
      max_failure_rate: z.nullable(z.number()),
      min_sample: z.nullable(count()),
      in_progress_timeout_minutes: z.nullable(z.number()),
    }),
    schedule: z.nullable(
      z.object({
        steps: z.array(z.object({ percentage: z.number(), soak_minutes: z.number(), min_success_rate: z.number() })),
        current_step: count(),
        step_started_at: timestamp(),
      }),
    ),
    counts: z.object({
      offered: count(),
      downloading: count(),
      installing: count(),
      succeeded: count(),
      failed: count(),
      rolled_back: count(),
      timed_out: count(),
      in_flight: count(),
      downloaded: count().check(z.describe('Offers whose whole app image the CDN delivered')),
      inferred: z
        .object({ succeeded: count(), failed: count() })
        .check(z.describe('Of succeeded / failed: inferred from check-ins and downloads (devices that send no report)')),
      explicit: z.object({ succeeded: count(), failed: count() }).check(z.describe('Of succeeded / failed: reported by devices')),
    }),
    created_at: timestamp(),
    updated_at: timestamp(),
  }),
);
export const Assignment = named(
  'Assignment',
  z.object({
    assignment_id: str(),
    build_number: buildNumber(),
    version: str(),
    state: z.enum(ASSIGNMENT_STATES),
    assigned_at: timestamp(),
    updated_at: timestamp(),
  }),
);
/** lambdas/core/model.ts `StatusEntry`, passed through as stored (camelCase `deploymentId`). */
export const StatusEntry = named(
  'StatusEntry',
  z.object({
    build_number: buildNumber(),
    status: z.enum(HISTORY_STATUS_LIST),
    at: timestamp(),
    deployment_id: z.optional(str()),
    message: z.optional(str()),
    inferred: z.optional(z.literal(true)),
    reason: z.optional(z.enum(INFERENCE_REASONS)),
  }),
);
export const Offer = named(
  'Offer',
  z.object({
    build_number: buildNumber(),
    deployment_id: str(),
    offered_at: timestamp(),
    version: z.nullable(str()),
    from_version: z.nullable(str()),
    downloaded_at: z.nullable(timestamp()),
    outcome: z.nullable(z.enum(OFFER_OUTCOMES)),
    settled_at: z.nullable(timestamp()),
    inferred: z.boolean(),
    reason: z.nullable(z.enum(INFERENCE_REASONS)),
  }),
);
export const Device = named(
  'Device',
  z.object({
    product_id: str(),
    device_id: str(),
    current_version: z.nullable(str()),
    current_build: z.nullable(buildNumber()),
    board: z.nullable(str()),
    chip: z.nullable(str()),
    hw_revision: z.nullable(str()),
    channel: str(),
    active: z.boolean(),
    first_seen: timestamp(),
    last_seen: timestamp(),
    last_status: z.nullable(StatusEntry),
    failed_builds: z.array(buildNumber()),
    token_set: z.boolean(),
    auto_update: z.boolean(),
    groups: z.array(str()),
    tags: z.record(str(), str()),
    history: z.array(StatusEntry).check(z.describe('The last 20 status reports, oldest first')),
    assignment: z.nullable(Assignment),
    info: z.nullable(z.record(str(), z.union([str(), z.number()]))),
    last_offer: z.nullable(Offer.check(z.describe('The last offer of a deployment to this device and how it settled'))),
  }),
);
export const DeploymentList = named('DeploymentList', z.object({ items: z.array(Deployment).check(z.describe('Newest first')) }));
export const DeviceList = named(
  'DeviceList',
  z.object({ items: z.array(Device), cursor: z.nullable(str().check(z.describe('Pass as `cursor` for the next page'))) }),
);
export const ProductKey = named(
  'ProductKey',
  z.object({
    product_key: str().check(z.regex(/^pk_[A-Za-z0-9]{32}$/), z.describe('Shown once; only its hash is stored')),
    previous_key_accepted: z.boolean(),
    note: str(),
  }),
);
export const PreviousKeyRetired = named('PreviousKeyRetired', z.object({ previous_key_accepted: z.literal(false) }));
export const DeviceToken = named(
  'DeviceToken',
  z.object({
    device_id: str(),
    token: str().check(z.regex(new RegExp(`^[A-Za-z0-9]{${TOKEN_LENGTH}}$`)), z.describe('Shown once; only its hash is stored')),
    note: str(),
  }),
);
export const AssignmentCancelled = named('AssignmentCancelled', z.object({ cancelled: z.literal(true) }));

/** Request body schemas of the operator API (the handlers validate with them). */
export const PutProductRequest = named('PutProductRequest', PutProductSchema);
export const CreateDeploymentRequest = named('CreateDeploymentRequest', CreateDeploymentSchema);
export const PromoteRequest = named('PromoteRequest', PromoteSchema);
export const AssignRequest = named('AssignRequest', AssignSchema);
export const PatchDeviceRequest = named('PatchDeviceRequest', PatchDeviceSchema);
export const AddSigningKeyRequest = named('AddSigningKeyRequest', AddSigningKeySchema);
/** `?state=`: only these. */
export const DeploymentListQuery = z.object({ state: z.optional(z.enum(DEPLOYMENT_STATES)) });

/* ───────────────────────────── operations ───────────────────────────── */

const P = '/admin/v1/products/{productId}';
const OPERATOR_ERRORS = { 403: 'Forbidden', 503: 'Unavailable' } as const;

export const putProduct = operation({
  id: 'putProduct',
  method: 'PUT',
  path: P,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Create or update a product',
  params: productParams,
  body: { schema: PutProductRequest, required: true, description: 'Strict: unknown fields are rejected.' },
  responses: {
    200: { description: 'Updated', body: Product },
    201: { description: 'Created', body: Product },
    400: 'BadRequest',
    409: { description: '`protocol_binding_taken`: another product holds one of the protocol bindings', body: ErrorBody },
    413: 'PayloadTooLarge',
    ...OPERATOR_ERRORS,
  },
});

export const getProduct = operation({
  id: 'getProduct',
  method: 'GET',
  path: P,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Get a product',
  params: productParams,
  responses: { 200: { description: 'The product', body: Product }, 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const listFirmware = operation({
  id: 'listFirmware',
  method: 'GET',
  path: `${P}/firmware`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'List firmware builds (?state=&version=&limit=&cursor=)',
  params: productParams,
  query: FirmwareListQuerySchema,
  responses: {
    200: { description: 'One page of builds, filtered by state / version', body: FirmwareList },
    400: 'BadRequest',
    404: 'NotFound',
    ...OPERATOR_ERRORS,
  },
});

export const getFirmware = operation({
  id: 'getFirmware',
  method: 'GET',
  path: `${P}/firmware/{build}`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Get one firmware build',
  params: firmwareParams,
  responses: { 200: { description: 'The build', body: Firmware }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const releaseFirmware = operation({
  id: 'releaseFirmware',
  method: 'POST',
  path: `${P}/firmware/{build}/release`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Release a DRAFT build',
  params: firmwareParams,
  description: 'Idempotent for a RELEASED build.',
  responses: { 200: { description: 'Released', body: ReleasedFirmware }, 400: 'BadRequest', 404: 'NotFound', 409: 'Conflict', ...OPERATOR_ERRORS },
});

export const revokeFirmware = operation({
  id: 'revokeFirmware',
  method: 'POST',
  path: `${P}/firmware/{build}/revoke`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Revoke a build (pauses deployments that offer it)',
  params: firmwareParams,
  description: 'Nothing may offer a revoked build: every active deployment pointing at it is paused.',
  responses: { 200: { description: 'Revoked', body: RevokedFirmware }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const createDeployment = operation({
  id: 'createDeployment',
  method: 'POST',
  path: `${P}/deployments`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Create a deployment',
  params: productParams,
  description: 'A percentage, or a canary `schedule` (steps gated on soak time and success rate); an optional failure policy pauses the deployment by itself.',
  body: { schema: CreateDeploymentRequest, required: true, description: 'Strict: unknown fields are rejected. `percentage` or `schedule` is required.' },
  responses: {
    201: { description: 'Created', body: Deployment },
    400: 'BadRequest',
    404: 'NotFound',
    409: { description: '`firmware_not_released`', body: ErrorBody },
    413: 'PayloadTooLarge',
    ...OPERATOR_ERRORS,
  },
});

export const listDeployments = operation({
  id: 'listDeployments',
  method: 'GET',
  path: `${P}/deployments`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'List deployments (?state=)',
  params: productParams,
  query: DeploymentListQuery,
  responses: { 200: { description: 'Every deployment of the product, newest first', body: DeploymentList }, 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const getDeployment = operation({
  id: 'getDeployment',
  method: 'GET',
  path: `${P}/deployments/{deploymentId}`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Get a deployment with its counters',
  params: deploymentParams,
  responses: { 200: { description: 'The deployment with its counters', body: Deployment }, 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const cancelDeployment = operation({
  id: 'cancelDeployment',
  method: 'POST',
  path: `${P}/deployments/{deploymentId}/cancel`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Cancel a deployment (offers nothing from now on)',
  params: deploymentParams,
  description: 'From active or paused; idempotent for a cancelled deployment.',
  responses: { 200: { description: 'Cancelled', body: Deployment }, 404: 'NotFound', 409: 'Conflict', ...OPERATOR_ERRORS },
});

export const completeDeployment = operation({
  id: 'completeDeployment',
  method: 'POST',
  path: `${P}/deployments/{deploymentId}/complete`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Mark a rollout finished (offers nothing more)',
  params: deploymentParams,
  description: 'Marks the rollout finished (from active or paused): it offers nothing more and leaves the sweeper; idempotent.',
  responses: { 200: { description: 'Completed', body: Deployment }, 404: 'NotFound', 409: 'Conflict', ...OPERATOR_ERRORS },
});

export const promoteDeployment = operation({
  id: 'promoteDeployment',
  method: 'POST',
  path: `${P}/deployments/{deploymentId}/promote`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Raise the percentage of a deployment',
  params: deploymentParams,
  body: { schema: PromoteRequest, required: true },
  responses: {
    200: { description: 'Promoted', body: Deployment },
    400: 'BadRequest',
    404: 'NotFound',
    409: { description: '`percentage_decrease` (pause instead) or `invalid_state`', body: ErrorBody },
    413: 'PayloadTooLarge',
    ...OPERATOR_ERRORS,
  },
});

export const pauseDeployment = operation({
  id: 'pauseDeployment',
  method: 'POST',
  path: `${P}/deployments/{deploymentId}/pause`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Pause a deployment',
  params: deploymentParams,
  description: 'Idempotent for a paused deployment.',
  responses: { 200: { description: 'Paused', body: Deployment }, 404: 'NotFound', 409: 'Conflict', ...OPERATOR_ERRORS },
});

export const resumeDeployment = operation({
  id: 'resumeDeployment',
  method: 'POST',
  path: `${P}/deployments/{deploymentId}/resume`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Resume a paused deployment',
  params: deploymentParams,
  responses: {
    200: { description: 'Active again', body: Deployment },
    404: 'NotFound',
    409: { description: '`firmware_revoked` or `invalid_state`', body: ErrorBody },
    ...OPERATOR_ERRORS,
  },
});

export const rotateProductKey = operation({
  id: 'rotateProductKey',
  method: 'POST',
  path: `${P}/key`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Rotate the product key (shown once; the previous key stays valid until retired)',
  params: productParams,
  responses: { 201: { description: 'The new key (shown once)', body: ProductKey }, 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const retirePreviousProductKey = operation({
  id: 'retirePreviousProductKey',
  method: 'DELETE',
  path: `${P}/key/previous`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Retire the previous product key',
  params: productParams,
  responses: { 200: { description: 'Only the current key is accepted from now on', body: PreviousKeyRetired }, 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const listDevices = operation({
  id: 'listDevices',
  method: 'GET',
  path: `${P}/devices`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'List devices (?prefix=&limit=&cursor=)',
  params: productParams,
  query: DeviceListQuerySchema,
  responses: { 200: { description: 'One page of devices', body: DeviceList }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const getDevice = operation({
  id: 'getDevice',
  method: 'GET',
  path: `${P}/devices/{deviceId}`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Get a device with its recent status history',
  params: deviceParams,
  responses: { 200: { description: 'The device with its recent status history', body: Device }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const patchDevice = operation({
  id: 'patchDevice',
  method: 'PATCH',
  path: `${P}/devices/{deviceId}`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Set active, channel, groups, tags',
  params: deviceParams,
  body: { schema: PatchDeviceRequest, required: true, description: 'Strict: unknown fields are rejected. Absent fields are left as they are.' },
  responses: { 200: { description: 'The updated device', body: Device }, 400: 'BadRequest', 404: 'NotFound', 413: 'PayloadTooLarge', ...OPERATOR_ERRORS },
});

export const issueDeviceToken = operation({
  id: 'issueDeviceToken',
  method: 'POST',
  path: `${P}/devices/{deviceId}/token`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Issue a device token (shown once)',
  params: deviceParams,
  description: 'Replaces any earlier token; registers the device when it has not checked in yet.',
  responses: { 201: { description: 'The token (shown once)', body: DeviceToken }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const clearFailedBuilds = operation({
  id: 'clearFailedBuilds',
  method: 'DELETE',
  path: `${P}/devices/{deviceId}/failed-builds`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: "Clear a device's failed builds (?build= for one), so they may be offered again",
  params: deviceParams,
  description: 'Each cleared build is recorded in the device history; the device may be offered it again.',
  query: ClearFailedBuildsQuerySchema,
  responses: { 200: { description: 'The device after clearing', body: Device }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const assignBuild = operation({
  id: 'assignBuild',
  method: 'PUT',
  path: `${P}/devices/{deviceId}/assignment`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Assign a released build to one device (409 for a failed build without retry, or a downgrade without allow_downgrade)',
  params: deviceParams,
  description: 'One open assignment per device; it takes precedence over deployments.',
  body: { schema: AssignRequest, required: true },
  responses: {
    200: { description: 'The same build was already assigned', body: Assignment },
    201: { description: 'Assigned', body: Assignment },
    400: 'BadRequest',
    404: 'NotFound',
    409: {
      description:
        '`assignment_pending` (send `replace: true`), `firmware_not_released`, `build_failed_before` (send `retry: true`) or `downgrade` (send `allow_downgrade: true`)',
      body: ErrorBody,
    },
    413: 'PayloadTooLarge',
    ...OPERATOR_ERRORS,
  },
});

export const getAssignment = operation({
  id: 'getAssignment',
  method: 'GET',
  path: `${P}/devices/{deviceId}/assignment`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: "Get a device's assignment",
  params: deviceParams,
  responses: { 200: { description: 'The assignment', body: Assignment }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const cancelAssignment = operation({
  id: 'cancelAssignment',
  method: 'DELETE',
  path: `${P}/devices/{deviceId}/assignment`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Cancel an open assignment',
  params: deviceParams,
  responses: { 200: { description: 'Cancelled', body: AssignmentCancelled }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const listSigningKeys = operation({
  id: 'listSigningKeys',
  method: 'GET',
  path: `${P}/signing-keys`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: "The product's trusted signing keys, active and revoked",
  params: productParams,
  responses: { 200: { description: 'Keys', body: SigningKeyList }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const addSigningKey = operation({
  id: 'addSigningKey',
  method: 'POST',
  path: `${P}/signing-keys`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Trust a signing public key (at most 3 active, as Secure Boot v2 allows)',
  description: 'Idempotent: adding a registered key answers 200 with it.',
  params: productParams,
  body: { schema: AddSigningKeyRequest, required: true },
  responses: {
    200: { description: 'Already registered', body: SigningKey },
    201: { description: 'Added', body: SigningKey },
    400: 'BadRequest',
    404: 'NotFound',
    409: { description: '`signing_keys_full` (3 active: revoke one first) or `signing_key_revoked` (a revoked key never comes back)', body: ErrorBody },
    ...OPERATOR_ERRORS,
  },
});

export const revokeSigningKey = operation({
  id: 'revokeSigningKey',
  method: 'POST',
  path: `${P}/signing-keys/{keyId}/revoke`,
  fn: 'admin',
  auth: 'iam',
  tag: 'operator',
  summary: 'Stop trusting a key; active deployments of builds only it vouched for are paused',
  description: 'New builds signed only by it are rejected (`revoked_signing_key`). Idempotent for a revoked key.',
  params: keyParams,
  responses: { 200: { description: 'Revoked', body: RevokedSigningKey }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
});

export const OPERATOR_OPERATIONS = [
  putProduct,
  getProduct,
  listFirmware,
  getFirmware,
  releaseFirmware,
  revokeFirmware,
  createDeployment,
  listDeployments,
  getDeployment,
  cancelDeployment,
  completeDeployment,
  promoteDeployment,
  pauseDeployment,
  resumeDeployment,
  rotateProductKey,
  retirePreviousProductKey,
  listDevices,
  getDevice,
  patchDevice,
  issueDeviceToken,
  clearFailedBuilds,
  assignBuild,
  getAssignment,
  cancelAssignment,
  listSigningKeys,
  addSigningKey,
  revokeSigningKey,
] as const;
