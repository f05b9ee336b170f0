/**
 * Operator API: request schemas (strict: an operator typo must not be silently ignored) and the
 * snake_case JSON representation of domain objects.
 */
import * as z from 'zod/mini';
import { DEFAULT_MAX_IMAGE_SIZE } from '../core/esp-image';
import { CHANNEL_PATTERN } from '../core/manifest';
import { CHIPS, type Assignment, type Deployment, type Device, type Firmware, type Product, type SigningKey, type StatusEntry } from '../core/model';
import { inFlightOf } from '../core/rollout';
import { BINDINGS, presentProtocols } from '../protocols/registry';

/** Bounds of a product's `max_image_size` (bytes). */
export const MIN_MAX_IMAGE_SIZE = 64 * 1024;
export const MAX_MAX_IMAGE_SIZE = 32 * 1024 * 1024;

/** Device group names (deployment targeting, device PATCH). */
const GROUP_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const percentage = z.number().check(
  z.gte(0),
  z.lte(100),
  z.refine((n) => Math.round(n * 100) === n * 100 || Math.abs(Math.round(n * 100) - n * 100) < 1e-9, 'at most two decimals'),
);

export const PutProductSchema = z.strictObject({
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  chip: z.enum(CHIPS as unknown as [string, ...string[]]),
  firmware_type: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  auto_register: z.optional(z.boolean()),
  security_mode: z.enum(['open', 'product_key', 'device_token']),
  poll_interval_s: z.optional(z.int().check(z.gte(60), z.lte(7 * 24 * 3600))),
  device_quota: z.optional(z.int().check(z.gte(1), z.lte(100_000_000))),
  /** Devices may move themselves to the channel they send; default: the operator-set channel wins. */
  device_selects_channel: z.optional(z.boolean()),
  /**
   * Largest app image the ingest accepts, bytes: 64 KiB (no real app is smaller) to 32 MiB (the
   * largest flash an ESP32-S3 maps; the upload function holds the image in memory). Default
   * 0x640000, the OTA slot of a 16 MB layout.
   */
  max_image_size: z.optional(z.int().check(z.gte(MIN_MAX_IMAGE_SIZE), z.lte(MAX_MAX_IMAGE_SIZE))),
  /** `off` (default), `optional` (verify when present), `required` (unsigned builds are rejected). */
  signing: z.optional(z.enum(['off', 'optional', 'required'])),
  /** The stack's KMS key signs every accepted build (a detached ECDSA P-256 signature devices verify); the key is registered as one of the product's. */
  platform_signing: z.optional(z.boolean()),
  /** One key per protocol binding (lambdas/protocols/registry.ts). */
  protocols: z.optional(
    z.strictObject(Object.fromEntries(BINDINGS.map((b) => [b.key, z.optional(b.wire)])) as Record<string, z.ZodMiniOptional<z.ZodMiniType>>),
  ),
});

export { protocolAliases } from '../protocols/registry';

export const PatchDeviceSchema = z.strictObject({
  active: z.optional(z.boolean()),
  /** Cheeko `autoUpdate`: whether the device installs offers by itself. */
  auto_update: z.optional(z.boolean()),
  channel: z.optional(z.string().check(z.regex(CHANNEL_PATTERN))),
  groups: z.optional(z.array(z.string().check(z.regex(GROUP_PATTERN))).check(z.maxLength(16))),
  tags: z.optional(z.record(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,32}$/)), z.string().check(z.maxLength(128)))),
});

export const DeviceListQuerySchema = z.object({
  limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(200))),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
  /** Device ids starting with this. */
  prefix: z.optional(z.string().check(z.maxLength(64))),
});

export const FirmwareListQuerySchema = z.object({
  limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(200))),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
  state: z.optional(z.enum(['DRAFT', 'RELEASED', 'REVOKED'])),
  version: z.optional(z.string().check(z.maxLength(64))),
});

export const AssignSchema = z.strictObject({
  build: z.int().check(z.gte(1)),
  replace: z.optional(z.boolean()),
  /** Assign a build the device failed or rolled back from: clears it from its failed builds (recorded in its history). */
  retry: z.optional(z.boolean()),
  /** Assign a build older than the one the device runs. */
  allow_downgrade: z.optional(z.boolean()),
});

/** `?build=` clears one failed build; absent clears them all. */
export const ClearFailedBuildsQuerySchema = z.object({ build: z.optional(z.coerce.number().check(z.int(), z.gte(1))) });
export type PutProductRequest = z.infer<typeof PutProductSchema>;

export const CreateDeploymentSchema = z
  .strictObject({
    build: z.int().check(z.gte(1)),
    /** Initial percentage; with a schedule, defaults to its first step's. */
    percentage: z.optional(percentage),
    channel: z.optional(z.string().check(z.regex(CHANNEL_PATTERN))),
    groups: z.optional(z.array(z.string().check(z.regex(GROUP_PATTERN))).check(z.minLength(1), z.maxLength(16))),
    seed: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
    force: z.optional(z.boolean()),
    schedule: z.optional(
      z
        .array(
          z.strictObject({
            percentage,
            soak_minutes: z.number().check(z.gte(0), z.lte(30 * 24 * 60)),
            min_success_rate: z.number().check(z.gte(0), z.lte(1)),
          }),
        )
        .check(
          z.minLength(1),
          z.maxLength(20),
          z.refine((steps) => steps.every((st, i) => i === 0 || st.percentage >= steps[i - 1]!.percentage), 'step percentages must not decrease'),
        ),
    ),
    max_failures: z.optional(z.int().check(z.gte(1))),
    max_failure_rate: z.optional(z.number().check(z.gt(0), z.lte(1))),
    min_sample: z.optional(z.int().check(z.gte(1))),
    in_progress_timeout_minutes: z.optional(z.number().check(z.gte(1), z.lte(30 * 24 * 60))),
  })
  .check(z.refine((b) => b.percentage !== undefined || b.schedule !== undefined, 'percentage or schedule is required'));
export type CreateDeploymentRequest = z.infer<typeof CreateDeploymentSchema>;

export const PromoteSchema = z.strictObject({ percentage });

export const ListQuerySchema = z.object({
  limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(200))),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
});

export const presentProduct = (p: Product) => ({
  product_id: p.productId,
  name: p.name,
  chip: p.chip,
  firmware_type: p.firmwareType ?? null,
  auto_register: p.autoRegister,
  security_mode: p.securityMode,
  product_key_set: Boolean(p.productKeyHash),
  previous_product_key_accepted: Boolean(p.previousProductKeyHash),
  poll_interval_s: p.pollIntervalS,
  device_quota: p.deviceQuota ?? null,
  device_selects_channel: Boolean(p.deviceSelectsChannel),
  max_image_size: p.maxImageSize ?? DEFAULT_MAX_IMAGE_SIZE,
  signing: p.signing ?? 'off',
  platform_signing: Boolean(p.platformSigning),
  protocols: presentProtocols(p.protocols) as {
    firefly?: { product_class: string; product_hex: string };
    cheeko?: { application: string; default: boolean };
    iotaap?: true;
  },
  created_at: p.createdAt,
  updated_at: p.updatedAt,
});

export const presentFirmware = (f: Firmware) => ({
  product_id: f.productId,
  build_number: f.build,
  version: f.version,
  state: f.state,
  firmware_type: f.firmwareType,
  channel: f.channel ?? null,
  files: f.files.map((x) => ({ role: x.role, name: x.name, key: x.key, size: x.size, sha256: x.sha256, crc32: x.crc32 })),
  app: {
    project_name: f.app.projectName,
    version: f.app.version,
    idf_version: f.app.idfVersion,
    chip_id: f.app.chipId,
    compile_date: f.app.compileDate ?? null,
    compile_time: f.app.compileTime ?? null,
    secure_version: f.app.secureVersion ?? null,
    min_chip_rev: f.app.minChipRev ?? null,
    min_chip_rev_full: f.app.minChipRevFull ?? null,
    max_chip_rev_full: f.app.maxChipRevFull ?? null,
  },
  notes: f.notes ?? null,
  boards: f.boards ?? null,
  force: Boolean(f.force),
  image_hash: f.imageHash ?? null,
  signature: f.signature
    ? {
        form: f.signature.form,
        key_ids: [...f.signature.keyIds],
        algorithm: f.signature.algorithm,
        image_offset: f.signature.imageOffset,
        platform: Boolean(f.signature.platform),
        verified_at: f.signature.verifiedAt,
      }
    : null,
  detached_signature: f.detachedSignature
    ? { signature: f.detachedSignature.signature, signature_alg: f.detachedSignature.algorithm, key_id: f.detachedSignature.keyId }
    : null,
  compatibility: {
    hw_revision_min: f.compatibility?.hwRevisionMin ?? null,
    hw_revision_max: f.compatibility?.hwRevisionMax ?? null,
    min_version: f.compatibility?.minVersion ?? null,
    required_step: Boolean(f.compatibility?.requiredStep),
  },
  source: f.source,
  created_at: f.createdAt,
  released_at: f.releasedAt ?? null,
  revoked_at: f.revokedAt ?? null,
});

export const presentSigningKey = (k: SigningKey) => ({
  key_id: k.keyId,
  algorithm: k.algorithm,
  name: k.name ?? null,
  origin: k.origin,
  state: k.state,
  public_key: k.publicKeyPem,
  added_at: k.addedAt,
  revoked_at: k.revokedAt ?? null,
});

export const AddSigningKeySchema = z.strictObject({
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`): RSA-3072 (Secure Boot v2), RSA-4096 (esp32FOTA) or EC P-256. Never a private key. */
  public_key: z.string().check(z.minLength(1), z.maxLength(4096)),
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
});

export const presentDeployment = (d: Deployment) => ({
  product_id: d.productId,
  deployment_id: d.deploymentId,
  build_number: d.build,
  version: d.firmware.version,
  channel: d.channel,
  groups: d.groups ?? [],
  percentage: d.percentage,
  seed: d.seed,
  force: Boolean(d.force),
  state: d.state,
  state_reason: d.stateReason ?? null,
  auto_pauses: d.autoPauses ?? 0,
  policy: {
    max_failures: d.policy?.maxFailures ?? null,
    max_failure_rate: d.policy?.maxFailureRate ?? null,
    min_sample: d.policy?.minSample ?? null,
    in_progress_timeout_minutes: d.policy?.inProgressTimeoutMinutes ?? null,
  },
  schedule: d.schedule
    ? {
        steps: d.schedule.steps.map((st) => ({ percentage: st.percentage, soak_minutes: st.soakMinutes, min_success_rate: st.minSuccessRate })),
        current_step: d.schedule.currentStep,
        step_started_at: d.schedule.stepStartedAt,
      }
    : null,
  counts: {
    offered: d.counts.offered,
    downloading: d.counts.downloading,
    installing: d.counts.installing,
    succeeded: d.counts.succeeded,
    failed: d.counts.failed,
    rolled_back: d.counts.rolledBack,
    timed_out: d.counts.timedOut,
    in_flight: inFlightOf(d.counts),
    downloaded: d.counts.downloaded,
    // Of succeeded / failed: what the platform inferred (devices that send no report) vs what devices reported.
    inferred: { succeeded: d.counts.inferredSucceeded, failed: d.counts.inferredFailed },
    explicit: { succeeded: d.counts.succeeded - d.counts.inferredSucceeded, failed: d.counts.failed - d.counts.inferredFailed },
  },
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

export const presentDevice = (d: Device) => ({
  product_id: d.productId,
  device_id: d.deviceId,
  current_version: d.currentVersion ?? null,
  current_build: d.currentBuild ?? null,
  board: d.board ?? null,
  chip: d.chip ?? null,
  hw_revision: d.hwRevision ?? null,
  channel: d.channel,
  active: d.active,
  first_seen: d.firstSeen,
  last_seen: d.lastSeen,
  last_status: d.lastStatus ? presentStatusEntry(d.lastStatus) : null,
  failed_builds: d.failedBuilds,
  token_set: Boolean(d.tokenHash),
  groups: d.groups ?? [],
  tags: d.tags ?? {},
  history: (d.history ?? []).slice(-20).map(presentStatusEntry),
  auto_update: d.autoUpdate ?? true,
  assignment: d.assignment ? presentAssignment(d.assignment) : null,
  info: d.info ?? null,
  last_offer: d.lastOffer ? presentOffer(d.lastOffer) : null,
});

const presentStatusEntry = (e: StatusEntry) => ({
  build_number: e.build,
  status: e.status,
  at: e.at,
  ...(e.deploymentId ? { deployment_id: e.deploymentId } : {}),
  ...(e.message ? { message: e.message } : {}),
  ...(e.inferred ? { inferred: true as const } : {}),
  ...(e.reason ? { reason: e.reason } : {}),
});

const presentOffer = (o: NonNullable<Device['lastOffer']>) => ({
  build_number: o.build,
  deployment_id: o.deploymentId,
  offered_at: o.at,
  version: o.version ?? null,
  from_version: o.fromVersion ?? null,
  downloaded_at: o.downloadedAt ?? null,
  outcome: o.outcome ?? null,
  settled_at: o.settledAt ?? null,
  inferred: Boolean(o.inferred),
  reason: o.reason ?? null,
});

export const presentAssignment = (a: Assignment) => ({
  assignment_id: a.assignmentId,
  build_number: a.build,
  version: a.firmware.version,
  state: a.state,
  assigned_at: a.assignedAt,
  updated_at: a.updatedAt,
});
