/**
 * OpenAPI 3.1 description of every device and operator route.
 *
 * - Paths and methods come from the one route table (`ROUTES`, lambdas/routes.ts); each route needs
 *   an entry in `OPERATIONS` below (test/openapi.test.ts fails for a route without one, and for an
 *   entry whose route is gone). A route without an entry is still emitted, marked `x-undocumented`,
 *   so the served document never breaks.
 * - Request bodies and query strings are converted from the zod schemas the handlers validate with
 *   (`z.toJSONSchema`, draft 2020-12, the dialect OpenAPI 3.1 uses). Checks JSON Schema cannot say
 *   (refinements such as "is a version") are left out, never a crash (`unrepresentable: 'any'`).
 * - Response bodies have no zod schema in the handlers (they are shaped by plain functions), so
 *   documentation-only schemas are defined here, read off lambdas/protocols/*.ts,
 *   lambdas/handlers/*.ts, lambdas/shared/http.ts and lambdas/core/admin-api.ts (`present*`).
 *   Two guards keep them true: their status/state enums are checked against the domain's union
 *   types by tsc (`everyOf`), and test/openapi.test.ts checks real responses of the local platform
 *   against the documented status codes, headers and schemas (an undocumented field fails).
 *
 * Pure: imports only the route table and core schemas (no stores, no AWS clients), so the local
 * gateway can serve it (`GET /openapi.json`) without touching the handlers.
 */
import * as z from 'zod/mini';
import { version as packageVersion } from '../package.json';
import {
  AssignSchema,
  ClearFailedBuildsQuerySchema,
  CreateDeploymentSchema,
  DeviceListQuerySchema,
  FirmwareListQuerySchema,
  PatchDeviceSchema,
  PromoteSchema,
  PutProductSchema,
} from './core/admin-api';
import type { CheckStatus } from './core/check';
import { DEVICE_ID_PATTERN } from './core/device-id';
import { IngestManifestSchema, PRODUCT_ID_PATTERN } from './core/manifest';
import { CHIPS, HISTORY_STATUSES, type AssignmentState, type InferenceReason, type OfferOutcome, type DeploymentState, type FileRole, type FirmwareState, type Product } from './core/model';
import { CheckRequestSchema, StatusRequestSchema } from './core/native-api';
import { HeartbeatSchema, ReleaseQuerySchema } from './core/protocols/bota';
import { CheekoBodySchema } from './core/protocols/cheeko';
import { FireflyQuerySchema } from './core/protocols/firefly';
import { TOKEN_LENGTH } from './core/security';
import { routeKey, ROUTES, type Route } from './routes';
import type { ReportResult } from './shared/status-service';

/* ───────────────────────────── documentation-only schemas ───────────────────────────── */

const str = () => z.string();
const count = () => z.number().check(z.int(), z.gte(0));
const buildNumber = () => z.number().check(z.int(), z.gte(1), z.lte(2_147_483_647));
const timestamp = () => z.string().check(z.describe('ISO-8601 UTC timestamp'));
const sha256 = () => z.string().check(z.regex(/^[0-9a-f]{64}$/), z.describe('SHA-256, lower-case hex'));
const crc32 = () => z.string().check(z.regex(/^[0-9a-f]{8}$/), z.describe('CRC-32 (IEEE), 8 lower-case hex digits'));
const signedUrl = () => z.string().check(z.describe('Signed, short-lived CDN URL of the file'));
const chip = () => z.enum(CHIPS as unknown as [string, ...string[]]);

/**
 * The members of a string union as an enum list. tsc fails right here when the union gains a member
 * the list lacks, so a new status or state cannot go undocumented.
 */
const everyOf =
  <U extends string>() =>
  <const L extends readonly U[]>(list: L & ([Exclude<U, L[number]>] extends [never] ? unknown : { readonly missing: Exclude<U, L[number]> })) =>
    list as unknown as [U, ...U[]];
const CHECK_STATUSES = everyOf<CheckStatus>()(['update_available', 'no_update', 'inactive', 'unknown_product', 'unknown_device', 'over_limit']);
const REPORT_RESULTS = everyOf<ReportResult>()(['recorded', 'duplicate', 'unknown_product', 'unknown_device', 'unknown_build']);
const FIRMWARE_STATES = everyOf<FirmwareState>()(['DRAFT', 'RELEASED', 'REVOKED']);
const FILE_ROLES = everyOf<FileRole>()(['app', 'ui', 'ufw']);
const DEPLOYMENT_STATES = everyOf<DeploymentState>()(['active', 'paused', 'completed', 'cancelled']);
const ASSIGNMENT_STATES = everyOf<AssignmentState>()(['pending', 'delivered', 'applied', 'failed']);
const OFFER_OUTCOMES = everyOf<OfferOutcome>()(['succeeded', 'failed', 'rolled_back', 'timed_out']);
const INFERENCE_REASONS = everyOf<InferenceReason>()(['checked_in_on_offered_build', 'returned_on_old_version', 'called_again_after_download']);
const SECURITY_MODES = everyOf<Product['securityMode']>()(['open', 'product_key', 'device_token']);

/** lambdas/shared/http.ts `errorBody`: every DomainError of the shared mapping, and the 503. */
const ErrorDoc = z.object({
  error: z.object({
    code: str().check(z.describe('Stable machine-readable code, e.g. `validation_failed`, `invalid_json`, `product_not_found`, `unavailable`')),
    message: str(),
    details: z.optional(z.unknown().check(z.describe('E.g. `{ fields: [...] }` for `validation_failed`'))),
  }),
});

/** API Gateway's own bodies (IAM authorisation failure, payload over 10 MB, no route). */
const GatewayMessageDoc = z.object({ message: str() });

/** lambdas/core/native-api.ts `NativeCheckResponse`. */
const NativeCheckResponseDoc = z.object({
  status: z.enum(CHECK_STATUSES),
  update_available: z.boolean(),
  update: z.boolean().check(z.describe('Alias of update_available (SimpleOTAClient reads `update`)')),
  next_check_s: count().check(z.describe('Seconds until the next check (jittered poll interval)')),
  build_number: z.optional(buildNumber()),
  version: z.optional(str()),
  url: z.optional(signedUrl()),
  size: z.optional(count()),
  sha256: z.optional(sha256()),
  crc32: z.optional(crc32()),
  checksum: z.optional(str().check(z.describe('`sha256:<hex>`'))),
  deployment_id: z.optional(str()),
  assignment_id: z.optional(str()),
  force: z.optional(z.boolean().check(z.describe('Install without asking (the build or the deployment says so)'))),
  firmware_type: z.optional(str()),
  ui: z.optional(z.object({ url: signedUrl(), size: count(), sha256: sha256(), crc32: crc32() })),
});

/** lambdas/handlers/status.ts. */
const NativeStatusResponseDoc = z.object({
  ok: z.boolean().check(z.describe('true for `recorded` and `duplicate`')),
  result: z.enum(REPORT_RESULTS),
  deployment_id: z.optional(str().check(z.describe('The deployment whose offer of this build the device holds'))),
  counted: z.optional(z.boolean().check(z.describe("Whether this report settled or advanced that offer; false: recorded in the device's history only"))),
});

/** lambdas/core/protocols/firefly.ts `fireflyManifest`. */
const FireflyManifestDoc = z
  .object({
    type: str().check(z.describe('Firmware type of the product/build')),
    version: str(),
    app: z.optional(signedUrl()),
    ui: z.optional(signedUrl().check(z.describe('LittleFS/SPIFFS image, when the build has ui.bin'))),
    url: z.optional(signedUrl().check(z.describe('The app URL again, for stock esp32FOTA (releases without ui)'))),
    host: z.optional(str().check(z.describe('Stock esp32FOTA, release with ui: CDN host name'))),
    port: z.optional(z.number().check(z.describe('Stock esp32FOTA: CDN port (https only on 443/4433)'))),
    bin: z.optional(str().check(z.describe('Stock esp32FOTA: path and signed query of the app image'))),
    spiffs: z.optional(str().check(z.describe('Stock esp32FOTA: path and signed query of the ui (filesystem) image'))),
  })
  .check(
    z.describe(
      'esp32FOTA manifest (at most 2048 bytes). Already on the latest release, or an unknown version: the requester\'s own version (no update), with the latest release\'s URLs for a version never released.',
    ),
  );

/** lambdas/core/protocols/cheeko.ts `cheekoFirmware`. */
const CheekoFirmwareDoc = z.object({
  version: str(),
  url: signedUrl(),
  size: count(),
  force: z.literal([0, 1]),
  name: str(),
  remark: str(),
});
const CheekoCheckResponseDoc = z.object({
  device: z.object({ mac: str().check(z.describe('AA:BB:CC:DD:EE:FF')), currentVersion: str(), board: str(), autoUpdate: z.boolean() }),
  firmware: z.nullable(CheekoFirmwareDoc),
  serverTime: z.object({ timestamp: count().check(z.describe('Unix time, ms')), timezone: z.literal('UTC'), offset: z.literal(0) }),
});
const CheekoInternalErrorDoc = z.object({ error: z.literal('Internal server error') }).check(z.describe('Sent with 200: Cheeko devices treat any non-200 as fatal'));
const CheekoErrorDoc = z.object({ code: z.literal(400), msg: str() });
const CheekoStatusResponseDoc = z.object({
  code: z.literal(0),
  msg: z.literal('success'),
  data: z.object({
    status: z.literal('online'),
    latestVersions: z.record(str(), z.object({ version: str(), forceUpdate: z.boolean() })).check(z.describe('Latest RELEASED version per board type')),
    serverTime: count().check(z.describe('Unix time, ms')),
  }),
});

/** lambdas/protocols/iotaap*.ts, lambdas/core/protocols/iotaap.ts and the IoTaaP list in lambdas/handlers/admin.ts. */
const IotaapVersionDoc = z.object({ ver: str().check(z.describe('Version the device should run')) });
const IotaapNoSuchDeviceDoc = z.object({ message: z.literal('No such device'), error: str() });
const IotaapMessageDoc = z.object({ message: str() });
const IotaapServerErrorDoc = z.object({ message: str(), error: str() });
const IotaapOtaDoc = z.object({
  _id: str(),
  device: str(),
  __v: z.literal(0),
  last_updated: timestamp(),
  owner: str().check(z.describe('Product id')),
  path: str(),
  version: str(),
});
const IotaapOtaListDoc = z.object({ otas: z.array(IotaapOtaDoc), recordsTotal: count(), recordsFiltered: count(), draw: str() });

/** lambdas/protocols/bota.ts. */
const BotaArtifactShape = { url: signedUrl(), size: count(), crc32: crc32(), sha256: sha256() };
const BotaArtifactDoc = z.object(BotaArtifactShape);
const BotaHeartbeatResponseDoc = z.object({
  ok: z.boolean().check(z.describe('false for unknown product/device or a failing credential')),
  status: z.enum(CHECK_STATUSES),
  server_time: timestamp(),
  next_heartbeat_s: count(),
  ota: z.nullable(z.object({ version: str(), build_number: buildNumber(), ...BotaArtifactShape, assignment_id: z.optional(str()) })),
});
const BotaLatestReleaseDoc = z.union([
  z.object({
    status: z.literal('update_available'),
    update_available: z.literal(true),
    version: str(),
    build_number: buildNumber(),
    notes: z.nullable(str()),
    released_at: z.nullable(timestamp()),
    bin: BotaArtifactDoc,
    ufw: z.nullable(BotaArtifactDoc),
  }),
  z.object({ status: z.literal('no_update'), update_available: z.literal(false), current_version: str() }),
  z.object({ status: z.enum(['unknown_product', 'unauthorized']), update_available: z.literal(false) }),
]);

/** lambdas/core/admin-api.ts `present*`. */
const ProductDoc = z.object({
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
  protocols: z.object({
    firefly: z.optional(z.object({ product_class: str(), product_hex: str() })),
    cheeko: z.optional(z.object({ application: str(), default: z.boolean() })),
    iotaap: z.optional(z.literal(true)),
  }),
  created_at: timestamp(),
  updated_at: timestamp(),
});
const FirmwareDoc = z.object({
  product_id: str(),
  build_number: buildNumber(),
  version: str(),
  state: z.enum(FIRMWARE_STATES),
  firmware_type: str(),
  channel: z.nullable(str()),
  files: z.array(
    z.object({ role: z.enum(FILE_ROLES), name: str(), key: str().check(z.describe('Object key in the firmware bucket')), size: count(), sha256: sha256(), crc32: crc32() }),
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
});
const RevokedFirmwareDoc = z.intersection(
  FirmwareDoc,
  z.object({ paused_deployments: z.array(str()).check(z.describe('Active deployments of the build, now paused (reason firmware_revoked)')) }),
);
const FirmwareListDoc = z.object({ items: z.array(FirmwareDoc), cursor: z.nullable(str().check(z.describe('Pass as `cursor` for the next page'))) });
const DeploymentDoc = z.object({
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
    inferred: z.object({ succeeded: count(), failed: count() }).check(z.describe('Of succeeded / failed: inferred from check-ins and downloads (devices that send no report)')),
    explicit: z.object({ succeeded: count(), failed: count() }).check(z.describe('Of succeeded / failed: reported by devices')),
  }),
  created_at: timestamp(),
  updated_at: timestamp(),
});
const AssignmentDoc = z.object({
  assignment_id: str(),
  build_number: buildNumber(),
  version: str(),
  state: z.enum(ASSIGNMENT_STATES),
  assigned_at: timestamp(),
  updated_at: timestamp(),
});
/** lambdas/core/model.ts `StatusEntry`, passed through as stored (camelCase `deploymentId`). */
const StatusEntryDoc = z.object({
  build_number: buildNumber(),
  status: z.enum(HISTORY_STATUSES as unknown as [string, ...string[]]),
  at: timestamp(),
  deployment_id: z.optional(str()),
  message: z.optional(str()),
  inferred: z.optional(z.literal(true)),
  reason: z.optional(z.enum(INFERENCE_REASONS)),
});
const OfferDoc = z.object({
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
});
const DeviceDoc = z.object({
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
  last_status: z.nullable(StatusEntryDoc),
  failed_builds: z.array(buildNumber()),
  token_set: z.boolean(),
  auto_update: z.boolean(),
  groups: z.array(str()),
  tags: z.record(str(), str()),
  history: z.array(StatusEntryDoc).check(z.describe('The last 20 status reports, oldest first')),
  assignment: z.nullable(AssignmentDoc),
  info: z.nullable(z.record(str(), z.union([str(), z.number()]))),
  last_offer: z.nullable(OfferDoc.check(z.describe('The last offer of a deployment to this device and how it settled'))),
});
const DeploymentListDoc = z.object({ items: z.array(DeploymentDoc).check(z.describe('Newest first')) });
const DeviceListDoc = z.object({ items: z.array(DeviceDoc), cursor: z.nullable(str().check(z.describe('Pass as `cursor` for the next page'))) });
const ProductKeyDoc = z.object({
  product_key: str().check(z.regex(/^pk_[A-Za-z0-9]{32}$/), z.describe('Shown once; only its hash is stored')),
  previous_key_accepted: z.boolean(),
  note: str(),
});
const PreviousKeyRetiredDoc = z.object({ previous_key_accepted: z.literal(false) });
const DeviceTokenDoc = z.object({
  device_id: str(),
  token: str().check(z.regex(new RegExp(`^[A-Za-z0-9]{${TOKEN_LENGTH}}$`)), z.describe('Shown once; only its hash is stored')),
  note: str(),
});
const AssignmentCancelledDoc = z.object({ cancelled: z.literal(true) });

/* ─────────────────── request schemas the handlers do not have as zod ─────────────────── */
// Each mirrors hand-written parsing; keep it in step with the file named.

/** lambdas/protocols/iotaap-upload.ts (multipart fields, all required). */
const IotaapUploadFormDoc = z.object({
  // A binary part in OpenAPI 3.1 terms (z.file() would emit 3.0's `format: binary`).
  firmware: z.string().check(z.describe('The application image (at most 4 MiB)'), z.meta({ contentMediaType: 'application/octet-stream' })),
  device: z.string().check(z.regex(DEVICE_ID_PATTERN)),
  token: z.string().check(z.describe("The device's token")),
  version: z.string().check(z.regex(/^\d+\.\d+\.\d+$/), z.describe('Semantic version, e.g. 1.5.7')),
});
/** lambdas/core/protocols/iotaap.ts `parseIotaapListQuery`. */
const IotaapListQueryDoc = z.object({
  search_value: z.optional(z.string().check(z.maxLength(128), z.describe('Filters on device id, version or path (substring)'))),
  offset: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1_000_000), z.meta({ default: 0 }))),
  limit: z.optional(z.number().check(z.int(), z.gte(0), z.lte(100), z.meta({ default: 10 }))),
  draw: z.optional(z.string().check(z.describe('Echoed back (DataTables)'))),
  order_dir: z.optional(z.enum(['asc', 'desc']).check(z.describe('Order by last_updated (case-insensitive)'), z.meta({ default: 'desc' }))),
});
/** lambdas/handlers/admin.ts `GET …/deployments` (`?state=`, compared as is: another value lists nothing). */
const DeploymentListQueryDoc = z.object({ state: z.optional(z.enum(DEPLOYMENT_STATES)) });
/** lambdas/protocols/cheeko.ts `GET /toy/ota`. */
const CheekoStatusQueryDoc = z.object({
  type: z.optional(z.string().check(z.describe('Only this board type'))),
  application: z.optional(z.string().check(z.describe('Product binding; absent or unknown: the default Cheeko product'))),
});
/** lambdas/core/protocols/cheeko.ts `resolveCheekoMac`: the header wins over the body. */
const CheekoHeadersDoc = z.object({
  'Device-Id': z.optional(z.string().check(z.describe('MAC of the device (else body `mac` / `mac_address`)'))),
});
/** lambdas/core/protocols/arduino.ts `parseArduinoHeaders` (names are case-insensitive). */
const ArduinoHeadersDoc = z.object({
  'x-ESP32-STA-MAC': z.string().check(z.describe('Station MAC; identifies the device')),
  'x-ESP32-version': z.optional(z.string().check(z.maxLength(64), z.describe('Running version (HTTPUpdate: the currentVersion argument)'))),
  'x-ESP32-sketch-sha256': z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/), z.describe('Identifies the running build when no version is sent'))),
  'x-ESP32-free-space': z.optional(z.number().check(z.int(), z.gte(0), z.describe('An image that would not fit is not offered'))),
  'x-ESP32-mode': z.optional(z.string().check(z.describe('`sketch` (default) or `spiffs`; a filesystem request always gets 304'))),
});

/* ───────────────────────────── components ───────────────────────────── */

/** Every named schema of the document (`#/components/schemas/<name>`). */
const SCHEMAS = {
  // Requests (the handlers' own zod schemas).
  CheckRequest: CheckRequestSchema,
  StatusRequest: StatusRequestSchema,
  CheekoCheckRequest: CheekoBodySchema,
  CheekoActivateRequest: z.pick(CheekoBodySchema, { mac: true, mac_address: true, application: true, token: true }),
  BotaHeartbeatRequest: HeartbeatSchema,
  PutProductRequest: PutProductSchema,
  CreateDeploymentRequest: CreateDeploymentSchema,
  PromoteRequest: PromoteSchema,
  AssignRequest: AssignSchema,
  PatchDeviceRequest: PatchDeviceSchema,
  IotaapUploadForm: IotaapUploadFormDoc,
  /** Not an HTTP body: the CI `manifest.json` uploaded last into the ingest bucket. */
  IngestManifest: IngestManifestSchema,
  // Responses.
  Error: ErrorDoc,
  GatewayMessage: GatewayMessageDoc,
  NativeCheckResponse: NativeCheckResponseDoc,
  NativeStatusResponse: NativeStatusResponseDoc,
  FireflyManifest: FireflyManifestDoc,
  CheekoFirmware: CheekoFirmwareDoc,
  CheekoCheckResponse: CheekoCheckResponseDoc,
  CheekoInternalError: CheekoInternalErrorDoc,
  CheekoError: CheekoErrorDoc,
  CheekoStatusResponse: CheekoStatusResponseDoc,
  IotaapVersion: IotaapVersionDoc,
  IotaapNoSuchDevice: IotaapNoSuchDeviceDoc,
  IotaapMessage: IotaapMessageDoc,
  IotaapServerError: IotaapServerErrorDoc,
  IotaapOta: IotaapOtaDoc,
  IotaapOtaList: IotaapOtaListDoc,
  BotaArtifact: BotaArtifactDoc,
  BotaHeartbeatResponse: BotaHeartbeatResponseDoc,
  BotaLatestRelease: BotaLatestReleaseDoc,
  Product: ProductDoc,
  Firmware: FirmwareDoc,
  RevokedFirmware: RevokedFirmwareDoc,
  FirmwareList: FirmwareListDoc,
  Deployment: DeploymentDoc,
  DeploymentList: DeploymentListDoc,
  Assignment: AssignmentDoc,
  StatusEntry: StatusEntryDoc,
  Device: DeviceDoc,
  DeviceList: DeviceListDoc,
  ProductKey: ProductKeyDoc,
  PreviousKeyRetired: PreviousKeyRetiredDoc,
  DeviceToken: DeviceTokenDoc,
  AssignmentCancelled: AssignmentCancelledDoc,
} satisfies Record<string, z.ZodMiniType>;
export type SchemaName = keyof typeof SCHEMAS;

const SCHEMA_DESCRIPTIONS: Partial<Record<SchemaName, string>> = {
  IngestManifest:
    'Not an HTTP body: the CI `manifest.json` uploaded last into the ingest bucket (`<product>/<version>/manifest.json`), which starts ingest; the verdict is written next to it as result.json.',
  Error: 'The shared error envelope: DomainError → its 4xx; infrastructure faults → 503 `unavailable` with Retry-After.',
  GatewayMessage: "API Gateway's own body (IAM authorisation failure, payload over 10 MB).",
};

export type JsonObject = { [key: string]: unknown };

/** zod → JSON Schema options. All schemas are converted in `input` mode: request schemas because
 * that is what a client sends; the documentation-only response schemas have no transforms, so input
 * and output agree, and `output` would only add `additionalProperties: false`, forbidding clients to
 * tolerate a field added later. */
const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' } as const;
const schemaRef = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });

/** Converts a standalone (inline) schema, without the `$schema` keyword. */
function inlineJsonSchema(schema: z.ZodMiniType): JsonObject {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS) as JsonObject;
  return rest;
}

function componentSchemas(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { ...JSON_SCHEMA_OPTIONS, uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, JsonObject> = {};
  for (const id of Object.keys(SCHEMAS) as SchemaName[]) {
    const { $schema: _s, $id: _i, ...rest } = schemas[id] as JsonObject;
    out[id] = SCHEMA_DESCRIPTIONS[id] ? { description: SCHEMA_DESCRIPTIONS[id], ...rest } : rest;
  }
  return out;
}

/** Shared responses (`#/components/responses/<name>`). */
type SharedResponse = 'BadRequest' | 'NotFound' | 'Conflict' | 'PayloadTooLarge' | 'Unavailable' | 'Forbidden';
const SHARED_RESPONSES: Record<SharedResponse, Reply> = {
  BadRequest: { description: 'Malformed or out-of-range input; `error.code` names it (e.g. `validation_failed`, `invalid_json`)', json: 'Error' },
  NotFound: { description: 'No such resource; `error.code` names it (e.g. `product_not_found`)', json: 'Error' },
  Conflict: { description: 'The current state forbids the operation; `error.code` names it (e.g. `invalid_state`)', json: 'Error' },
  PayloadTooLarge: { description: 'JSON body over 16 KiB (`payload_too_large`)', json: 'Error' },
  Unavailable: { description: 'Infrastructure fault: back off for Retry-After seconds (`unavailable`)', json: 'Error', headers: ['Retry-After'] },
  Forbidden: { description: 'IAM (SigV4) authorisation failed (API Gateway; locally: a non-loopback client)', json: 'GatewayMessage' },
};

const HEADERS = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
  Location: { description: 'Signed, short-lived CDN URL of the firmware image', schema: { type: 'string', format: 'uri' } },
} as const;

const DEVICE_SECRET_SCHEMES = ['deviceBearer', 'deviceOtaKey', 'deviceOtaToken', 'deviceBasic'] as const;
const SECURITY_SCHEMES = {
  sigv4: {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    description: 'Operator routes: AWS Signature Version 4 (IAM authorizer). The local platform admits loopback clients without a signature.',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
  deviceBearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      "Device secret (optional; required by products in `product_key` mode — the product key — or `device_token` mode — the device's token). It may also be sent in X-OTA-Key / X-OTA-Token, as the Basic password, or in the protocol's `token` body/query field.",
  },
  deviceOtaKey: { type: 'apiKey', name: 'X-OTA-Key', in: 'header', description: 'Device secret (product key or device token).' },
  deviceOtaToken: { type: 'apiKey', name: 'X-OTA-Token', in: 'header', description: 'Device secret (product key or device token).' },
  deviceBasic: { type: 'http', scheme: 'basic', description: 'Device secret as the password (Arduino HTTPUpdate `setAuthorization`); the user name is ignored.' },
} as const;

/* ───────────────────────────── the per-route registry ───────────────────────────── */

/** One documented response: a shared one, or inline. */
export type Reply =
  | SharedResponse
  | {
      readonly description: string;
      /** JSON body; several names: one of them. Omitted (with `text` omitted too): no body. */
      readonly json?: SchemaName | readonly SchemaName[];
      /** A text/plain body with exactly this content. */
      readonly text?: string;
      readonly headers?: readonly (keyof typeof HEADERS)[];
      /** Headers only sometimes present (documented, not required). */
      readonly optionalHeaders?: readonly (keyof typeof HEADERS)[];
    };

export type Tag = 'native' | 'firefly' | 'arduino' | 'cheeko' | 'iotaap' | 'bota' | 'operator' | 'iotaap-operator';

export interface OperationDoc {
  readonly operationId: string;
  readonly tag: Tag;
  readonly description?: string;
  /** Query parameters, from the object schema the handler validates them with. */
  readonly query?: z.ZodMiniObject;
  /** Header parameters (besides the device secret headers). */
  readonly headers?: z.ZodMiniObject;
  readonly body?: { readonly schema: SchemaName; readonly required: boolean; readonly contentType?: string; readonly description?: string };
  /** Device routes: false when the route takes no device secret in headers (it is open or authenticates otherwise). */
  readonly deviceSecret?: boolean;
  readonly responses: Readonly<Record<number, Reply>>;
}

const P = '/admin/v1/products/{productId}';
const OPERATOR_ERRORS = { 403: 'Forbidden', 503: 'Unavailable' } as const;

/** Route key (`METHOD /path`) → its documentation. Every entry of ROUTES needs one. */
export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  'POST /api/v1/ota/check': {
    operationId: 'nativeCheck',
    tag: 'native',
    description:
      'Business outcomes (unknown product or device, inactive, failing credential → `unknown_device`) are 200 with `update_available: false`, so devices never retry-storm. A trailing slash is accepted.',
    body: { schema: 'CheckRequest', required: true, description: 'Extra fields are ignored.' },
    responses: { 200: { description: 'The decision; with an offer when `update_available`', json: 'NativeCheckResponse' }, 400: 'BadRequest', 413: 'PayloadTooLarge', 503: 'Unavailable' },
  },
  'POST /api/v1/ota/status': {
    operationId: 'nativeStatus',
    tag: 'native',
    description: 'Progress and outcome of an install. `failed` / `rolled_back` builds are never offered to the device again. A trailing slash is accepted.',
    body: { schema: 'StatusRequest', required: true },
    responses: { 200: { description: 'Recorded (or a business outcome in `result`)', json: 'NativeStatusResponse' }, 400: 'BadRequest', 413: 'PayloadTooLarge', 503: 'Unavailable' },
  },
  'GET /ota/{class}/{productHex}': {
    operationId: 'fireflyManifest',
    tag: 'firefly',
    description:
      'Sequential updates: the oldest release newer than `current_version` the requester may have. With `id` the device is tracked and placed in rollout cohorts; without it only deployments at 100 % apply.',
    query: FireflyQuerySchema,
    responses: {
      200: { description: 'The esp32FOTA manifest (the requester\'s own version when nothing is newer)', json: 'FireflyManifest' },
      400: 'BadRequest',
      404: { description: 'Unknown product (`unknown_product`), unknown device / failing credential (`unknown_device`), or no release at all (`no_release`)', json: 'Error' },
      409: { description: '`current_version_revoked`: the running version is revoked and nothing newer is released', json: 'Error' },
      503: 'Unavailable',
    },
  },
  'GET /api/v1/ota/arduino/{productId}': {
    operationId: 'arduinoHttpUpdate',
    tag: 'arduino',
    description:
      'Arduino-ESP32 HTTPUpdate (call `httpUpdate.setFollowRedirects(HTTPC_FORCE_FOLLOW_REDIRECTS)`). A 200 would be flashed, so no JSON body is ever 200.',
    headers: ArduinoHeadersDoc,
    responses: {
      302: { description: 'Update: follow Location to the signed image', headers: ['Location'] },
      304: { description: 'Nothing newer (also for unknown or inactive devices, filesystem requests and images that would not fit)' },
      400: { description: '`invalid_arduino_request`: not an HTTPUpdate request (missing or malformed x-ESP32-* headers)', json: 'Error' },
      403: { description: '`forbidden`: failing device credential', json: 'Error' },
      404: { description: '`unknown_product`', json: 'Error' },
      503: 'Unavailable',
    },
  },
  'POST /toy/ota': {
    operationId: 'cheekoCheck',
    tag: 'cheeko',
    description:
      'Boot check and registration by MAC (`Device-Id` header, else body `mac` / `mac_address`). A malformed optional body field is dropped, not rejected. The product is the one bound to `application`, else the default Cheeko product.',
    headers: CheekoHeadersDoc,
    body: { schema: 'CheekoCheckRequest', required: false, description: 'Optional when Device-Id is sent; extra fields are ignored.' },
    responses: {
      200: { description: '`firmware` is null when there is nothing to install; an internal error is also a 200, `{ error }`', json: ['CheekoCheckResponse', 'CheekoInternalError'] },
      400: { description: 'Missing or invalid device id', json: 'CheekoError' },
    },
  },
  'GET /toy/ota': {
    operationId: 'cheekoStatus',
    tag: 'cheeko',
    query: CheekoStatusQueryDoc,
    deviceSecret: false,
    responses: {
      200: { description: 'Latest released version per board (the seed\'s three boards, plus any a build names)', json: 'CheekoStatusResponse' },
      400: { description: 'Rejected input', json: 'CheekoError' },
      503: 'Unavailable',
    },
  },
  'POST /toy/ota/activate': {
    operationId: 'cheekoActivate',
    tag: 'cheeko',
    headers: CheekoHeadersDoc,
    body: { schema: 'CheekoActivateRequest', required: false, description: 'Optional when Device-Id is sent.' },
    responses: {
      200: { description: 'The device is registered and active', text: 'success' },
      202: { description: 'Not activated (unknown or inactive device, missing MAC, failing credential, or an internal error); empty body' },
    },
  },
  'GET /v1/ota/device/latest/{deviceId}': {
    operationId: 'iotaapLatest',
    tag: 'iotaap',
    description: 'Open by design (IoTaaP devices are found by id alone). The version the device should run: an offered build, else its own.',
    deviceSecret: false,
    responses: {
      200: { description: 'The version to run', json: 'IotaapVersion' },
      404: {
        description: 'Unknown or inactive device, nothing deployed yet, or resources not available at the moment (then with Retry-After)',
        json: 'IotaapNoSuchDevice',
        optionalHeaders: ['Retry-After'],
      },
    },
  },
  'GET /v1/ota/device/download/{deviceIdAndToken}': {
    operationId: 'iotaapDownload',
    tag: 'iotaap',
    description: 'Authenticated by the device token in the path (always, whatever the product mode). The bytes never pass through the API.',
    deviceSecret: false,
    responses: {
      302: { description: 'Follow Location to the signed image', headers: ['Location'] },
      404: {
        description: 'Unknown device, wrong token, nothing to download, or resources not available at the moment (then with Retry-After)',
        json: 'IotaapNoSuchDevice',
        optionalHeaders: ['Retry-After'],
      },
    },
  },
  'POST /api/v1/devices/{deviceId}/heartbeat': {
    operationId: 'botaHeartbeat',
    tag: 'bota',
    description:
      'Records the running version; while an assignment (or deployment offer) is pending the response carries its OTA manifest. Running the assigned version makes the assignment `applied`; `ota_status: failed` makes it `failed`.',
    body: { schema: 'BotaHeartbeatRequest', required: true },
    responses: { 200: { description: 'Heartbeat recorded; `ota` is null without an offer', json: 'BotaHeartbeatResponse' }, 400: 'BadRequest', 413: 'PayloadTooLarge', 503: 'Unavailable' },
  },
  'GET /api/v1/products/{productId}/releases/latest': {
    operationId: 'botaLatestRelease',
    tag: 'bota',
    description: "For the phone app's Bluetooth path: open and product_key products only (the app holds no per-device secret).",
    query: ReleaseQuerySchema,
    responses: {
      200: { description: 'Whether a newer RELEASED build exists for the model, with signed `bin` and `ufw` URLs', json: 'BotaLatestRelease' },
      400: 'BadRequest',
      503: 'Unavailable',
    },
  },

  [`PUT ${P}`]: {
    operationId: 'putProduct',
    tag: 'operator',
    body: { schema: 'PutProductRequest', required: true, description: 'Strict: unknown fields are rejected.' },
    responses: {
      200: { description: 'Updated', json: 'Product' },
      201: { description: 'Created', json: 'Product' },
      400: 'BadRequest',
      409: { description: '`protocol_binding_taken`: another product holds one of the protocol bindings', json: 'Error' },
      413: 'PayloadTooLarge',
      ...OPERATOR_ERRORS,
    },
  },
  [`GET ${P}`]: { operationId: 'getProduct', tag: 'operator', responses: { 200: { description: 'The product', json: 'Product' }, 404: 'NotFound', ...OPERATOR_ERRORS } },
  [`GET ${P}/firmware`]: {
    operationId: 'listFirmware',
    tag: 'operator',
    query: FirmwareListQuerySchema,
    responses: { 200: { description: 'One page of builds, filtered by state / version', json: 'FirmwareList' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`GET ${P}/firmware/{build}`]: {
    operationId: 'getFirmware',
    tag: 'operator',
    responses: { 200: { description: 'The build', json: 'Firmware' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`POST ${P}/firmware/{build}/release`]: {
    operationId: 'releaseFirmware',
    tag: 'operator',
    description: 'Idempotent for a RELEASED build.',
    responses: { 200: { description: 'Released', json: 'Firmware' }, 400: 'BadRequest', 404: 'NotFound', 409: 'Conflict', ...OPERATOR_ERRORS },
  },
  [`POST ${P}/firmware/{build}/revoke`]: {
    operationId: 'revokeFirmware',
    tag: 'operator',
    description: 'Nothing may offer a revoked build: every active deployment pointing at it is paused.',
    responses: { 200: { description: 'Revoked', json: 'RevokedFirmware' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`POST ${P}/deployments`]: {
    operationId: 'createDeployment',
    tag: 'operator',
    description:
      'A percentage, or a canary `schedule` (steps gated on soak time and success rate); an optional failure policy pauses the deployment by itself.',
    body: { schema: 'CreateDeploymentRequest', required: true, description: 'Strict: unknown fields are rejected. `percentage` or `schedule` is required.' },
    responses: {
      201: { description: 'Created', json: 'Deployment' },
      400: 'BadRequest',
      404: 'NotFound',
      409: { description: '`firmware_not_released`', json: 'Error' },
      413: 'PayloadTooLarge',
      ...OPERATOR_ERRORS,
    },
  },
  [`GET ${P}/deployments`]: {
    operationId: 'listDeployments',
    tag: 'operator',
    query: DeploymentListQueryDoc,
    responses: { 200: { description: 'Every deployment of the product, newest first', json: 'DeploymentList' }, 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`GET ${P}/deployments/{deploymentId}`]: {
    operationId: 'getDeployment',
    tag: 'operator',
    responses: { 200: { description: 'The deployment with its counters', json: 'Deployment' }, 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`POST ${P}/deployments/{deploymentId}/cancel`]: {
    operationId: 'cancelDeployment',
    tag: 'operator',
    description: 'From active or paused; idempotent for a cancelled deployment.',
    responses: { 200: { description: 'Cancelled', json: 'Deployment' }, 404: 'NotFound', 409: 'Conflict', ...OPERATOR_ERRORS },
  },
  [`POST ${P}/deployments/{deploymentId}/complete`]: {
    operationId: 'completeDeployment',
    tag: 'operator',
    description: 'Marks the rollout finished (from active or paused): it offers nothing more and leaves the sweeper; idempotent.',
    responses: { 200: { description: 'Completed', json: 'Deployment' }, 404: 'NotFound', 409: 'Conflict', ...OPERATOR_ERRORS },
  },
  [`POST ${P}/deployments/{deploymentId}/promote`]: {
    operationId: 'promoteDeployment',
    tag: 'operator',
    body: { schema: 'PromoteRequest', required: true },
    responses: {
      200: { description: 'Promoted', json: 'Deployment' },
      400: 'BadRequest',
      404: 'NotFound',
      409: { description: '`percentage_decrease` (pause instead) or `invalid_state`', json: 'Error' },
      413: 'PayloadTooLarge',
      ...OPERATOR_ERRORS,
    },
  },
  [`POST ${P}/deployments/{deploymentId}/pause`]: {
    operationId: 'pauseDeployment',
    tag: 'operator',
    description: 'Idempotent for a paused deployment.',
    responses: { 200: { description: 'Paused', json: 'Deployment' }, 404: 'NotFound', 409: 'Conflict', ...OPERATOR_ERRORS },
  },
  [`POST ${P}/deployments/{deploymentId}/resume`]: {
    operationId: 'resumeDeployment',
    tag: 'operator',
    responses: {
      200: { description: 'Active again', json: 'Deployment' },
      404: 'NotFound',
      409: { description: '`firmware_revoked` or `invalid_state`', json: 'Error' },
      ...OPERATOR_ERRORS,
    },
  },
  [`POST ${P}/key`]: {
    operationId: 'rotateProductKey',
    tag: 'operator',
    responses: { 201: { description: 'The new key (shown once)', json: 'ProductKey' }, 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`DELETE ${P}/key/previous`]: {
    operationId: 'retirePreviousProductKey',
    tag: 'operator',
    responses: { 200: { description: 'Only the current key is accepted from now on', json: 'PreviousKeyRetired' }, 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`GET ${P}/devices`]: {
    operationId: 'listDevices',
    tag: 'operator',
    query: DeviceListQuerySchema,
    responses: { 200: { description: 'One page of devices', json: 'DeviceList' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`GET ${P}/devices/{deviceId}`]: {
    operationId: 'getDevice',
    tag: 'operator',
    responses: { 200: { description: 'The device with its recent status history', json: 'Device' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`PATCH ${P}/devices/{deviceId}`]: {
    operationId: 'patchDevice',
    tag: 'operator',
    body: { schema: 'PatchDeviceRequest', required: true, description: 'Strict: unknown fields are rejected. Absent fields are left as they are.' },
    responses: { 200: { description: 'The updated device', json: 'Device' }, 400: 'BadRequest', 404: 'NotFound', 413: 'PayloadTooLarge', ...OPERATOR_ERRORS },
  },
  [`POST ${P}/devices/{deviceId}/token`]: {
    operationId: 'issueDeviceToken',
    tag: 'operator',
    description: 'Replaces any earlier token; registers the device when it has not checked in yet.',
    responses: { 201: { description: 'The token (shown once)', json: 'DeviceToken' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`PUT ${P}/devices/{deviceId}/assignment`]: {
    operationId: 'assignBuild',
    tag: 'operator',
    description: 'One open assignment per device; it takes precedence over deployments.',
    body: { schema: 'AssignRequest', required: true },
    responses: {
      200: { description: 'The same build was already assigned', json: 'Assignment' },
      201: { description: 'Assigned', json: 'Assignment' },
      400: 'BadRequest',
      404: 'NotFound',
      409: {
        description: '`assignment_pending` (send `replace: true`), `firmware_not_released`, `build_failed_before` (send `retry: true`) or `downgrade` (send `allow_downgrade: true`)',
        json: 'Error',
      },
      413: 'PayloadTooLarge',
      ...OPERATOR_ERRORS,
    },
  },
  [`DELETE ${P}/devices/{deviceId}/failed-builds`]: {
    operationId: 'clearFailedBuilds',
    tag: 'operator',
    description: 'Each cleared build is recorded in the device history; the device may be offered it again.',
    query: ClearFailedBuildsQuerySchema,
    responses: { 200: { description: 'The device after clearing', json: 'Device' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`GET ${P}/devices/{deviceId}/assignment`]: {
    operationId: 'getAssignment',
    tag: 'operator',
    responses: { 200: { description: 'The assignment', json: 'Assignment' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },
  [`DELETE ${P}/devices/{deviceId}/assignment`]: {
    operationId: 'cancelAssignment',
    tag: 'operator',
    responses: { 200: { description: 'Cancelled', json: 'AssignmentCancelled' }, 400: 'BadRequest', 404: 'NotFound', ...OPERATOR_ERRORS },
  },

  'GET /v1/ota/device': {
    operationId: 'iotaapListOtas',
    tag: 'iotaap-operator',
    description: 'The latest OTA (assignment) per device of every IoTaaP-bound product, DataTables-style.',
    query: IotaapListQueryDoc,
    responses: {
      200: { description: 'One page', json: 'IotaapOtaList' },
      400: { description: 'Invalid query', json: 'IotaapMessage' },
      403: 'Forbidden',
      500: { description: 'Infrastructure fault', json: 'IotaapServerError', headers: ['Retry-After'] },
    },
  },
  'POST /v1/ota/device': {
    operationId: 'iotaapUploadFirmware',
    tag: 'iotaap-operator',
    description: 'Feeds the ingest pipeline (the build is assigned to the device once accepted) and waits for its verdict.',
    body: { schema: 'IotaapUploadForm', required: true, contentType: 'multipart/form-data' },
    responses: {
      201: { description: '`Firmware successfully deployed`', json: 'IotaapMessage' },
      400: { description: 'Missing field, invalid device id or version, no file, file too large, or image rejected by ingest', json: 'IotaapMessage' },
      403: 'Forbidden',
      404: { description: '`No such device`: unknown device or wrong token', json: 'IotaapMessage' },
      413: { description: 'Request over 10 MB (API Gateway)', json: 'GatewayMessage' },
      500: { description: 'Infrastructure fault, or the verdict did not arrive in time (retrying is safe)', json: 'IotaapServerError', headers: ['Retry-After'] },
    },
  },
};

const TAGS: { name: Tag; description: string }[] = [
  { name: 'native', description: 'Native device API (SimpleOTA-shaped)' },
  { name: 'firefly', description: 'FireFly / esp32FOTA manifest' },
  { name: 'arduino', description: 'Arduino-ESP32 HTTPUpdate' },
  { name: 'cheeko', description: 'Cheeko toy OTA' },
  { name: 'iotaap', description: 'IoTaaP device routes' },
  { name: 'bota', description: 'Bota heartbeat and app release lookup' },
  { name: 'operator', description: 'Operator API (IAM / SigV4)' },
  { name: 'iotaap-operator', description: 'IoTaaP operator routes (IAM / SigV4)' },
];

/* ───────────────────────────── the generator ───────────────────────────── */

/** Routes of `routes` that have no entry in OPERATIONS. */
export const undocumentedRoutes = (routes: readonly Route[] = ROUTES): Route[] => routes.filter((r) => !OPERATIONS[routeKey(r)]);

const pathParamNames = (path: string): string[] => [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);

function pathParameters(path: string, putProduct: JsonObject): JsonObject[] {
  const firefly = ((putProduct.properties as JsonObject).protocols as { properties: { firefly: { properties: Record<string, JsonObject> } } }).properties.firefly.properties;
  const known: Record<string, { schema: JsonObject; description: string }> = {
    productId: { schema: inlineJsonSchema(z.string().check(z.regex(PRODUCT_ID_PATTERN))), description: 'Product id' },
    deviceId: { schema: inlineJsonSchema(z.string().check(z.regex(DEVICE_ID_PATTERN))), description: 'Device id (MACs in any common spelling are normalised to AA:BB:CC:DD:EE:FF)' },
    build: { schema: inlineJsonSchema(buildNumber()), description: 'Build number (per product, monotonic)' },
    deploymentId: { schema: { type: 'string' }, description: 'Deployment id' },
    class: { schema: firefly.product_class, description: 'FireFly product class (the product binding `protocols.firefly.product_class`)' },
    productHex: { schema: firefly.product_hex, description: 'FireFly product hex, e.g. 0x1A2B (matched case-insensitively)' },
    deviceIdAndToken: {
      schema: { type: 'string', minLength: TOKEN_LENGTH + 1 },
      description: `The device id immediately followed by its ${TOKEN_LENGTH}-character token (no separator)`,
    },
  };
  return pathParamNames(path).map((name) => ({ name, in: 'path', required: true, ...(known[name] ?? { schema: { type: 'string' } }) }));
}

/** One parameter per property of an object schema. */
function objectParameters(schema: z.ZodMiniObject, where: 'query' | 'header'): JsonObject[] {
  const json = inlineJsonSchema(schema) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: json.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest };
  });
}

function response(reply: Reply): JsonObject {
  if (typeof reply === 'string') return { $ref: `#/components/responses/${reply}` };
  const names = reply.json === undefined ? [] : typeof reply.json === 'string' ? [reply.json] : [...reply.json];
  const headers = [
    ...(reply.headers ?? []).map((h) => [h, { $ref: `#/components/headers/${h}` }] as const),
    ...(reply.optionalHeaders ?? []).map((h) => [h, { $ref: `#/components/headers/${h}` }] as const),
  ];
  // A header object may not say `required` through a $ref; required ones are inlined with the flag.
  const headerObjects = Object.fromEntries(
    headers.map(([h, ref]) => [h, reply.headers?.includes(h) ? { ...HEADERS[h], required: true } : ref]),
  );
  return {
    description: reply.description,
    ...(headers.length ? { headers: headerObjects } : {}),
    ...(names.length
      ? { content: { 'application/json': { schema: names.length === 1 ? schemaRef(names[0]) : { oneOf: names.map(schemaRef) } } } }
      : reply.text !== undefined
        ? { content: { 'text/plain': { schema: { type: 'string', const: reply.text } } } }
        : {}),
  };
}

const DEVICE_SECURITY = [{}, ...DEVICE_SECRET_SCHEMES.map((s) => ({ [s]: [] }))];

function operation(route: Route, doc: OperationDoc | undefined, putProduct: JsonObject): JsonObject {
  const parameters = [
    ...pathParameters(route.path, putProduct),
    ...(doc?.query ? objectParameters(doc.query, 'query') : []),
    ...(doc?.headers ? objectParameters(doc.headers, 'header') : []),
  ];
  const security = route.auth === 'iam' ? [{ sigv4: [] }] : doc?.deviceSecret === false ? [] : DEVICE_SECURITY;
  if (!doc) {
    return {
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.summary,
      parameters,
      security,
      responses: { default: { description: 'Undocumented: add this route to OPERATIONS in lambdas/openapi.ts' } },
      'x-undocumented': true,
      'x-ota-function': route.fn,
    };
  }
  return {
    operationId: doc.operationId,
    summary: route.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    ...(parameters.length ? { parameters } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: doc.body.required,
            ...(doc.body.description ? { description: doc.body.description } : {}),
            content: { [doc.body.contentType ?? 'application/json']: { schema: schemaRef(doc.body.schema) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(doc.responses).map(([status, reply]) => [status, response(reply)])),
    security,
    'x-ota-function': route.fn,
  };
}

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: JsonObject & { readonly title: string; readonly version: string };
  readonly tags: readonly JsonObject[];
  readonly paths: Record<string, Record<string, JsonObject>>;
  readonly components: {
    readonly schemas: Record<string, JsonObject>;
    readonly responses: Record<string, JsonObject>;
    readonly headers: Record<string, JsonObject>;
    readonly securitySchemes: Record<string, JsonObject>;
  };
}

/** Builds the document for `routes` (default: the route table). Pure; a few milliseconds. */
export function buildOpenApiDocument(routes: readonly Route[] = ROUTES): OpenApiDocument {
  const schemas = componentSchemas();
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, OPERATIONS[routeKey(route)], schemas.PutProductRequest);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ESP32 OTA platform',
      version: packageVersion,
      description: [
        'Device routes (`auth: none`; device security modes are enforced by the handlers) and operator routes (IAM / SigV4).',
        'In the cloud they are two HTTP APIs (device API and operator API); the local platform serves both on one port.',
        'Generated from lambdas/routes.ts and the handlers\' zod schemas by lambdas/openapi.ts.',
      ].join(' '),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: TAGS,
    paths,
    components: {
      schemas,
      responses: Object.fromEntries(Object.entries(SHARED_RESPONSES).map(([name, reply]) => [name, response(reply)])),
      headers: HEADERS,
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
