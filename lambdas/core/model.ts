/**
 * Domain model shared by every handler, the CDK stack and the local platform.
 * Pure types and constants: no AWS imports anywhere under lambdas/core.
 */

/** ESP32 family members and the `chip_id` their image header carries (u16 LE at byte 12). */
export const CHIP_IDS = {
  esp32: 0x0000,
  esp32s2: 0x0002,
  esp32c3: 0x0005,
  esp32s3: 0x0009,
  esp32c2: 0x000c,
  esp32c6: 0x000d,
  esp32h2: 0x0010,
} as const;
export type Chip = keyof typeof CHIP_IDS;
export const CHIPS = Object.keys(CHIP_IDS) as Chip[];

export type SecurityMode = 'open' | 'product_key' | 'device_token';

export interface Product {
  readonly productId: string;
  readonly name: string;
  readonly chip: Chip;
  /** esp32FOTA `type` string devices compare against; default for manifests that omit it. */
  readonly firmwareType?: string;
  /** Unknown devices register themselves on first check. */
  readonly autoRegister: boolean;
  readonly securityMode: SecurityMode;
  /** SHA-256 of the product key (`product_key` mode). Never the key itself. */
  readonly productKeyHash?: string;
  /** The key before the last rotation, still accepted until retired, so a fleet can be re-keyed gradually. */
  readonly previousProductKeyHash?: string;
  /** Base poll interval handed to devices (seconds, before jitter). */
  readonly pollIntervalS: number;
  /** How the seed protocols that carry no product id find this product. */
  readonly protocols?: ProductProtocols;
  /** Most devices this product may register; beyond it a new device gets `over_limit`. */
  readonly deviceQuota?: number;
  /**
   * Devices may move themselves to the channel they send. Off by default: a device's own channel
   * applies only when it is new; after that the channel an operator set is the device's channel.
   */
  readonly deviceSelectsChannel?: boolean;
  /** Largest app image ingest accepts (bytes); absent: the OTA slot of a 16 MB layout (DEFAULT_MAX_IMAGE_SIZE). */
  readonly maxImageSize?: number;
  /** Signature policy of ingest; absent: `off`. */
  readonly signing?: SigningPolicy;
  /** The platform's own key (KMS in the cloud) signs every accepted build with a detached ECDSA P-256 signature. */
  readonly platformSigning?: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * `off`: signatures are not looked at. `optional`: verified when present, a bad one rejects the
 * build. `required`: an unsigned build is rejected too.
 */
export type SigningPolicy = 'off' | 'optional' | 'required';
export const SIGNING_POLICIES: readonly SigningPolicy[] = ['off', 'optional', 'required'];

export type SigningAlgorithm = 'rsa-3072' | 'rsa-4096' | 'ecdsa-p256';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['rsa-3072', 'rsa-4096', 'ecdsa-p256'];
export type SigningKeyState = 'active' | 'revoked';

/** A public key a product trusts to sign its builds. */
export interface SigningKey {
  readonly productId: string;
  /** 64 hex: the SHA-256 digest of the public key as a Secure Boot v2 eFuse holds it (core/signing/keys.ts). */
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
  readonly name?: string;
  /** `platform`: the stack's own key (KMS), registered when a product turns platform signing on. */
  readonly origin: 'operator' | 'platform';
  readonly state: SigningKeyState;
  readonly addedAt: string;
  readonly revokedAt?: string;
}

/** Secure Boot v2 allows three key digests in eFuse; a product trusts at most as many at once. */
export const MAX_ACTIVE_SIGNING_KEYS = 3;

export type SignatureForm = 'secure_boot_v2' | 'esp32fota' | 'detached';

/** A detached signature a device receives with its offer (ECDSA P-256 over the SHA-256 of the app file, DER, base64). */
export interface DetachedSignature {
  readonly signature: string;
  readonly algorithm: 'ecdsa-p256-sha256';
  readonly keyId: string;
}

/** How ingest verified a build's signature. */
export interface SignatureVerification {
  readonly form: SignatureForm;
  /** The registered, active keys whose signatures verified. */
  readonly keyIds: readonly string[];
  readonly algorithm: SigningAlgorithm;
  /** Where the ESP image starts in the file (esp32FOTA: after the 512-byte signature). */
  readonly imageOffset: number;
  /** Made by the platform's key at ingest rather than by the operator. */
  readonly platform?: boolean;
  readonly verifiedAt: string;
}

/** Protocol bindings of a product (each is also a unique alias item, see CatalogStore). */
export interface ProductProtocols {
  /** FireFly / esp32FOTA: `GET /ota/{class}/{product_hex}`; hex matched case-insensitively. */
  readonly firefly?: { readonly productClass: string; readonly productHex: string };
  /** Cheeko `/toy/ota/`: requests whose body `application` equals this; `default` also takes requests without one. */
  readonly cheeko?: { readonly application: string; readonly default?: boolean };
  /** IoTaaP: device ids are global (`/v1/ota/device/latest/{device-id}`); devices of this product are findable by id alone. */
  readonly iotaap?: boolean;
}

export type FirmwareState = 'DRAFT' | 'RELEASED' | 'REVOKED';
/** `app`: application image; `ui`: LittleFS/SPIFFS partition image (FireFly); `ufw`: Bluetooth OTA package (Bota). */
export type FileRole = 'app' | 'ui' | 'ufw';

export interface FirmwareFile {
  readonly role: FileRole;
  /** Name as uploaded by CI (e.g. `Controller.ino.bin`). */
  readonly name: string;
  /** Immutable object key in the firmware bucket. */
  readonly key: string;
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
  /** CRC-32 (IEEE), 8 lower-case hex digits. */
  readonly crc32: string;
}

/** Fields read from the app image's `esp_app_desc_t`. */
export interface AppDescriptor {
  readonly chipId: number;
  readonly version: string;
  readonly projectName: string;
  readonly idfVersion: string;
  readonly compileDate?: string;
  readonly compileTime?: string;
  /** `esp_app_desc_t.secure_version`: anti-rollback counter (eFuse), absent on builds ingested before it was read. */
  readonly secureVersion?: number;
  /**
   * From the extended image header (`esp_image_header_t`): the legacy `min_chip_rev` (major only)
   * and `min_chip_rev_full` / `max_chip_rev_full` (major × 100 + minor; 0xffff max = no upper bound).
   */
  readonly minChipRev?: number;
  readonly minChipRevFull?: number;
  readonly maxChipRevFull?: number;
}

export interface Firmware {
  readonly productId: string;
  /** Per product, strictly monotonic, never reused (gaps allowed). */
  readonly build: number;
  readonly version: string;
  readonly state: FirmwareState;
  readonly firmwareType: string;
  readonly channel?: string;
  readonly files: readonly FirmwareFile[];
  readonly app: AppDescriptor;
  readonly notes?: string;
  /** Board types this build is for (empty/absent: any board of the product's chip). */
  readonly boards?: readonly string[];
  /** Install without asking (Cheeko `force`). */
  readonly force?: boolean;
  /** SHA-256 the image carries appended (what Arduino's `x-ESP32-sketch-sha256` reports), when present. */
  readonly imageHash?: string;
  readonly compatibility?: Compatibility;
  /** Absent: unsigned (or accepted while the product's signing was `off`). */
  readonly signature?: SignatureVerification;
  /** Handed to devices with the offer (the manifest's, or the platform's). */
  readonly detachedSignature?: DetachedSignature;
  /** Ingest object key of the manifest that produced this build. */
  readonly source: string;
  /** Digest over the accepted files (name + sha256), for idempotent re-ingest. */
  readonly contentDigest: string;
  readonly createdAt: string;
  readonly releasedAt?: string;
  readonly revokedAt?: string;
}

/** A deployment's counters before anything happened. */
export const ZERO_COUNTS: DeploymentCounts = Object.freeze({
  offered: 0,
  downloading: 0,
  installing: 0,
  succeeded: 0,
  failed: 0,
  rolledBack: 0,
  timedOut: 0,
  downloaded: 0,
  inferredSucceeded: 0,
  inferredFailed: 0,
});

export type DeploymentState = 'active' | 'paused' | 'completed' | 'cancelled';

/** Outcome counters kept atomically on the deployment item. */
export interface DeploymentCounts {
  readonly offered: number;
  readonly downloading: number;
  readonly installing: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly rolledBack: number;
  /** Offers that neither succeeded nor failed within the policy's in-progress timeout. */
  readonly timedOut: number;
  /** Offers whose whole image the CDN delivered to the device (edge / CloudFront logs), once per offer. */
  readonly downloaded: number;
  /** Of `succeeded`: inferred from the device checking in on the offered build (it sent no report). */
  readonly inferredSucceeded: number;
  /** Of `failed`: inferred from a device that downloaded the image and came back on its old version. */
  readonly inferredFailed: number;
}

/** When a deployment stops itself. All optional; absent = never by that rule. */
export interface FailurePolicy {
  /** Pause when failures (failed + rolled back + timed out) reach this count. */
  readonly maxFailures?: number;
  /** Pause when failures / outcomes reaches this rate (0–1), once `minSample` outcomes exist. */
  readonly maxFailureRate?: number;
  readonly minSample?: number;
  /** An offer not finished (success or failure) within this many minutes counts as timed out. */
  readonly inProgressTimeoutMinutes?: number;
}

/** One step of a canary schedule. */
export interface ScheduleStep {
  readonly percentage: number;
  /** Minimum time at this step before promoting. */
  readonly soakMinutes: number;
  /** succeeded / (succeeded + failures) at the end of the soak; promotion waits until it holds. */
  readonly minSuccessRate: number;
}

export interface Schedule {
  readonly steps: readonly ScheduleStep[];
  /** Index of the step the deployment is at. */
  readonly currentStep: number;
  readonly stepStartedAt: string;
}

/** What a deployment offers, copied from the firmware record at creation so a check needs no firmware read. */
export interface OfferedBuild {
  readonly build: number;
  readonly version: string;
  readonly firmwareType: string;
  readonly files: readonly FirmwareFile[];
  readonly boards?: readonly string[];
  readonly force?: boolean;
  readonly notes?: string;
  readonly imageHash?: string;
  readonly compatibility?: Compatibility;
  /** The build's `secure_version`: a device whose eFuse holds a higher one refuses it (anti-rollback). */
  readonly secureVersion?: number;
  readonly detachedSignature?: DetachedSignature;
  /** Keys whose signatures made this build acceptable (revoking all of them pauses its deployments). */
  readonly signingKeyIds?: readonly string[];
  /** The file starts with an esp32FOTA signature (512 bytes): only esp32FOTA clients, which strip it, can install it. */
  readonly imageOffset?: number;
}

/** Who may install a build beyond chip and boards (issue: compatibility on firmware). */
export interface Compatibility {
  /** Inclusive hardware revision range (numeric revisions, e.g. 1–3). */
  readonly hwRevisionMin?: number;
  readonly hwRevisionMax?: number;
  /** The device must already run at least this version. */
  readonly minVersion?: string;
  /** Must-pass-through: devices below this build's version are offered it before anything newer. */
  readonly requiredStep?: boolean;
}

/** Copies what a device offer needs from a firmware record (deployments and assignments carry it). */
export const offeredBuild = (f: Firmware): OfferedBuild => ({
  build: f.build,
  version: f.version,
  firmwareType: f.firmwareType,
  files: f.files,
  ...(f.boards?.length ? { boards: f.boards } : {}),
  ...(f.force ? { force: true } : {}),
  ...(f.notes ? { notes: f.notes } : {}),
  ...(f.imageHash ? { imageHash: f.imageHash } : {}),
  ...(f.compatibility ? { compatibility: f.compatibility } : {}),
  ...(f.app.secureVersion !== undefined ? { secureVersion: f.app.secureVersion } : {}),
  ...(f.detachedSignature ? { detachedSignature: f.detachedSignature } : {}),
  ...(f.signature?.keyIds.length ? { signingKeyIds: f.signature.keyIds } : {}),
  ...(f.signature?.imageOffset ? { imageOffset: f.signature.imageOffset } : {}),
});

export type AssignmentState = 'pending' | 'delivered' | 'applied' | 'failed';

/** One build assigned by an operator to one device (Bota). Takes precedence over deployments. */
export interface Assignment {
  /** Unique per assignment, so a state change cannot land on a replacement. */
  readonly assignmentId: string;
  readonly build: number;
  readonly state: AssignmentState;
  readonly firmware: OfferedBuild;
  readonly assignedAt: string;
  readonly updatedAt: string;
}

export const OPEN_ASSIGNMENT_STATES: readonly AssignmentState[] = ['pending', 'delivered'];

export interface Deployment {
  readonly productId: string;
  readonly deploymentId: string;
  readonly build: number;
  readonly channel: string;
  /** Device groups; when set, only devices in one of them (and in the channel) are targeted. */
  readonly groups?: readonly string[];
  /** 0–100 with two decimals. */
  readonly percentage: number;
  readonly seed: string;
  /** Install without asking the user (devices that can defer). */
  readonly force?: boolean;
  readonly policy?: FailurePolicy;
  readonly schedule?: Schedule;
  readonly state: DeploymentState;
  readonly stateReason?: string;
  /** How many times a policy paused it (a conditional transition: at most once per active period). */
  readonly autoPauses?: number;
  /** Outcome counts when it was last resumed: the failure policy judges what happened since. */
  readonly policyBaseline?: Pick<DeploymentCounts, 'succeeded' | 'failed' | 'rolledBack' | 'timedOut'>;
  readonly firmware: OfferedBuild;
  readonly counts: DeploymentCounts;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type DeviceReportStatus = 'downloading' | 'installing' | 'success' | 'failed' | 'rolled_back';

/**
 * How an offer of a deployment to a device ended. Each offer settles at most once: the first
 * terminal fact wins (a report, an inference, or the sweeper's timeout); later facts go to the
 * device's history only.
 */
export type OfferOutcome = 'succeeded' | 'failed' | 'rolled_back' | 'timed_out';

/** Why an outcome was inferred rather than reported. */
export type InferenceReason = 'checked_in_on_offered_build' | 'returned_on_old_version' | 'called_again_after_download';

/**
 * The device's open (or last) offer from a deployment: offered → (downloaded) → settled. The
 * device item is the one place an offer settles, with a conditional write, so reports, inferences
 * and the timeout sweeper race fairly and each offer is counted once.
 */
export interface OfferRecord {
  readonly build: number;
  readonly deploymentId: string;
  /** When it was first offered (also the in-flight index's sort key). */
  readonly at: string;
  /** Version of the offered build (inference compares what the device says with it). */
  readonly version?: string;
  /** What the device ran when it was offered this build (an inferred failure is a return to it). */
  readonly fromVersion?: string;
  readonly fromBuild?: number;
  /** When the CDN finished delivering the whole app image to this device. */
  readonly downloadedAt?: string;
  /** Progress reports already counted for this offer. */
  readonly downloadingAt?: string;
  readonly installingAt?: string;
  readonly outcome?: OfferOutcome;
  readonly settledAt?: string;
  readonly inferred?: boolean;
  readonly reason?: InferenceReason;
}
export const DEVICE_REPORT_STATUSES: readonly DeviceReportStatus[] = ['downloading', 'installing', 'success', 'failed', 'rolled_back'];

/** Reports that end an offer (each counted once per build and device). */
export const TERMINAL_REPORT_STATUSES: ReadonlySet<DeviceReportStatus> = new Set(['success', 'failed', 'rolled_back']);

export interface DeviceHardware {
  readonly board?: string;
  readonly chip?: string;
  readonly revision?: string;
}

export interface Device {
  readonly productId: string;
  /** MACs are normalised to `AA:BB:CC:DD:EE:FF`; other ids are kept as sent. */
  readonly deviceId: string;
  readonly currentVersion?: string;
  readonly currentBuild?: number;
  readonly board?: string;
  readonly chip?: string;
  readonly hwRevision?: string;
  /** Highest anti-rollback `secure_version` known for the device (reported, or of a build it confirmed): never offered less. */
  readonly secureVersion?: number;
  readonly channel: string;
  readonly active: boolean;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly lastStatus?: {
    readonly build: number;
    readonly status: DeviceReportStatus;
    readonly at: string;
    readonly deploymentId?: string;
    readonly message?: string;
  };
  /** Builds this device reported `failed` or `rolled_back`: never offered again. */
  readonly failedBuilds: readonly number[];
  readonly lastOffer?: OfferRecord;
  /** SHA-256 of the device's token (`device_token` mode, IoTaaP downloads). */
  readonly tokenHash?: string;
  readonly assignment?: Assignment;
  /** Set only for devices of IoTaaP-bound products: the sparse index that finds a device by id alone. */
  readonly globalId?: string;
  /** What the device says about itself beyond board/chip (Cheeko: flash size, chip model, application). */
  readonly info?: Readonly<Record<string, string | number>>;
  /** Whether the device installs offers by itself (Cheeko `autoUpdate`; default true). */
  readonly autoUpdate?: boolean;
  /** Device groups deployments can target. */
  readonly groups?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  /** Recent status reports, newest last (bounded). */
  readonly history?: readonly StatusEntry[];
}

export type HistoryStatus = DeviceReportStatus | 'downloaded' | 'timed_out' | 'failed_build_cleared';
export const HISTORY_STATUSES: readonly HistoryStatus[] = [...DEVICE_REPORT_STATUSES, 'downloaded', 'timed_out', 'failed_build_cleared'];

export interface StatusEntry {
  readonly build: number;
  /** A report's status, or a fact the platform or an operator established (`downloaded`, `timed_out`, `failed_build_cleared`). */
  readonly status: HistoryStatus;
  readonly at: string;
  readonly deploymentId?: string;
  readonly message?: string;
  /** The platform inferred this outcome (the device sent no report). */
  readonly inferred?: boolean;
  readonly reason?: InferenceReason;
}

export const DEFAULT_CHANNEL = 'stable';
