/**
 * What the services need of each store, as interfaces: the public methods of the DynamoDB stores
 * (CatalogStore, DeploymentStore, DeviceStore), so a service can run on an in-memory store in unit
 * tests (test/support/memory-stores.ts) and on DynamoDB everywhere else. The assertions at the end
 * keep each class assignable to its port: a changed signature fails `tsc` here.
 */
import type {
  Assignment,
  AssignmentState,
  Deployment,
  DeploymentState,
  Device,
  Firmware,
  FirmwareState,
  InferenceReason,
  OfferOutcome,
  OfferRecord,
  Product,
  SigningKey,
} from '../../core/model';
import type { CatalogStore, ProductInput, VersionLock } from './catalog-store';
import type { Page } from './ddb';
import type { CounterName, DeploymentStore, InFlightOffer } from './deployment-store';
import type { AssignOutcome, DevicePatch, DeviceStore, ReportInput, ReportOutcome, SlotClaim } from './device-store';
import type { AddKeyOutcome, SigningKeyStore } from './signing-key-store';

export interface CatalogStorePort {
  getProduct(productId: string): Promise<Product | undefined>;
  /** Creates or updates a product (undefined fields are removed); keeps createdAt and the build counter. */
  putProduct(input: ProductInput, now: string): Promise<{ product: Product; created: boolean }>;
  allocateBuildNumber(productId: string): Promise<number>;
  getVersionLock(productId: string, version: string): Promise<VersionLock | undefined>;
  putVersionLock(lock: VersionLock): Promise<boolean>;
  putFirmware(fw: Firmware): Promise<boolean>;
  getFirmware(productId: string, build: number, consistent?: boolean): Promise<Firmware | undefined>;
  /** Newest first, paged by an opaque cursor. */
  listFirmware(productId: string, opts?: { limit?: number; cursor?: string; state?: FirmwareState; version?: string }): Promise<Page<Firmware>>;
  /** Undefined when the build does not exist or is not in one of `from`. */
  transitionFirmware(productId: string, build: number, from: readonly FirmwareState[], to: FirmwareState, now: string): Promise<Firmware | undefined>;
  /** Throws (ConditionalCheckFailed) when the product does not exist. */
  setProductKeys(productId: string, current: string | undefined, previous: string | undefined): Promise<void>;
  /** False when another product holds the alias. */
  claimAlias(alias: string, productId: string): Promise<boolean>;
  releaseAlias(alias: string, productId: string): Promise<void>;
  resolveAlias(alias: string): Promise<string | undefined>;
  listAliases(prefix: string): Promise<{ alias: string; productId: string }[]>;
  getFirmwareByVersion(productId: string, version: string): Promise<Firmware | undefined>;
  listFirmwareInStates(productId: string, states: readonly FirmwareState[]): Promise<Firmware[]>;
}

export interface DeploymentStorePort {
  create(d: Deployment): Promise<void>;
  get(productId: string, deploymentId: string, consistent?: boolean): Promise<Deployment | undefined>;
  /** Every deployment of a product (in deployment id order, i.e. oldest first). */
  list(productId: string): Promise<Deployment[]>;
  /** Undefined when the deployment does not exist or is not in one of `from`. */
  transition(
    productId: string,
    deploymentId: string,
    from: readonly DeploymentState[],
    to: DeploymentState,
    reason: string | undefined,
    now: string,
  ): Promise<Deployment | undefined>;
  /** Undefined when finished, missing, or the percentage would go down. */
  raisePercentage(productId: string, deploymentId: string, percentage: number, now: string): Promise<Deployment | undefined>;
  recordOffer(productId: string, deploymentId: string, increment: 0 | 1): Promise<boolean>;
  increment(productId: string, deploymentId: string, counter: CounterName | readonly CounterName[]): Promise<Deployment | undefined>;
  autoPause(productId: string, deploymentId: string, reason: string, now: string): Promise<boolean>;
  /** paused → active with a new policy baseline; undefined when it was not paused. */
  resume(productId: string, deploymentId: string, now: string): Promise<Deployment | undefined>;
  advanceStep(productId: string, deploymentId: string, fromStep: number, toStep: number, percentage: number, now: string): Promise<Deployment | undefined>;
  addInFlight(o: InFlightOffer): Promise<void>;
  removeInFlight(deploymentId: string, offeredAt: string, deviceId: string): Promise<boolean>;
  overdueInFlight(deploymentId: string, cutoff: string, limit?: number): Promise<InFlightOffer[]>;
  watch(productId: string, deploymentId: string): Promise<void>;
  unwatch(productId: string, deploymentId: string): Promise<void>;
  watched(): Promise<{ productId: string; deploymentId: string }[]>;
}

export interface DeviceStorePort {
  get(productId: string, deviceId: string, consistent?: boolean): Promise<Device | undefined>;
  /** False when the device already exists. */
  register(device: Device): Promise<boolean>;
  /** Undefined values are removed; undefined when the device does not exist. */
  update(productId: string, deviceId: string, patch: DevicePatch): Promise<Device | undefined>;
  recordReport(productId: string, deviceId: string, report: ReportInput): Promise<ReportOutcome>;
  settleOffer(
    productId: string,
    deviceId: string,
    match: { readonly build: number; readonly deploymentId?: string },
    outcome: OfferOutcome,
    at: string,
    inferred?: { readonly reason: InferenceReason; readonly version?: string },
  ): Promise<OfferRecord | undefined>;
  markOfferStep(
    productId: string,
    deviceId: string,
    build: number,
    step: 'downloadingAt' | 'installingAt' | 'downloadedAt',
    at: string,
  ): Promise<OfferRecord | undefined>;
  /** Each cleared build recorded in the history; undefined when the device does not exist. */
  clearFailedBuilds(productId: string, deviceId: string, builds: readonly number[], at: string, message: string): Promise<Device | undefined>;
  /** Ordered by device id, paged by an opaque cursor. */
  listByProduct(productId: string, opts?: { limit?: number; cursor?: string; prefix?: string }): Promise<Page<Device>>;
  assign(productId: string, deviceId: string, assignment: Assignment, replace: boolean): Promise<AssignOutcome>;
  transitionAssignment(
    productId: string,
    deviceId: string,
    assignmentId: string,
    from: readonly AssignmentState[],
    to: AssignmentState,
    now: string,
  ): Promise<boolean>;
  /** False when there was no open assignment. */
  cancelAssignment(productId: string, deviceId: string): Promise<boolean>;
  /** One slot per device, however many of its requests race (see DeviceStore.claimDeviceSlot). */
  claimDeviceSlot(productId: string, deviceId: string, quota: number): Promise<SlotClaim>;
  releaseDeviceSlot(productId: string, deviceId: string): Promise<void>;
  registeredCount(productId: string): Promise<number>;
  /** Registers the device first when it is new. */
  setToken(device: Device, tokenHash: string): Promise<void>;
  findByGlobalId(deviceId: string): Promise<Device[]>;
}

export interface SigningKeyStorePort {
  get(productId: string, keyId: string): Promise<SigningKey | undefined>;
  list(productId: string): Promise<SigningKey[]>;
  /** `full` when `maxActive` keys are active; throws (ConditionalCheckFailed) when the product does not exist. */
  add(key: SigningKey, maxActive: number): Promise<AddKeyOutcome>;
  /** Undefined when the key does not exist or is already revoked. */
  revoke(productId: string, keyId: string, now: string): Promise<SigningKey | undefined>;
}

/** Compile-time: each DynamoDB store is assignable to its port. */
type Implements<T extends Port, Port> = T;
export type CatalogStoreImplementsPort = Implements<CatalogStore, CatalogStorePort>;
export type DeploymentStoreImplementsPort = Implements<DeploymentStore, DeploymentStorePort>;
export type DeviceStoreImplementsPort = Implements<DeviceStore, DeviceStorePort>;
export type SigningKeyStoreImplementsPort = Implements<SigningKeyStore, SigningKeyStorePort>;
