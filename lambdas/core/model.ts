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
  /** Largest app image ingest accepts (bytes); absent: the OTA slot of a 16 MB layout (DEFAULT_MAX_IMAGE_SIZE). */
  readonly maxImageSize?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
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
  /** Ingest object key of the manifest that produced this build. */
  readonly source: string;
  /** Digest over the accepted files (name + sha256), for idempotent re-ingest. */
  readonly contentDigest: string;
  readonly createdAt: string;
  readonly releasedAt?: string;
  readonly revokedAt?: string;
}

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
export const DEVICE_REPORT_STATUSES: readonly DeviceReportStatus[] = [
  'downloading',
  'installing',
  'success',
  'failed',
  'rolled_back',
];

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
  readonly lastOffer?: { readonly build: number; readonly deploymentId: string; readonly at: string };
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

export interface StatusEntry {
  readonly build: number;
  readonly status: DeviceReportStatus;
  readonly at: string;
  readonly deploymentId?: string;
  readonly message?: string;
}

export const DEFAULT_CHANNEL = 'stable';
