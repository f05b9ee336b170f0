/**
 * In-memory stores for unit tests: the store ports (lambdas/shared/store/ports.ts) with the
 * semantics of the DynamoDB stores — conditional writes that answer undefined/false when their
 * condition fails, what an update returns (the item after it, before a history trim), query order,
 * Limit-then-filter pages with opaque cursors (a cursor whenever a page stopped at its Limit, as
 * DynamoDB does), storage-only attributes never returned, undefined values removed. Every read
 * returns a copy. test/shared/memory-stores.contract.test.ts runs the same scenarios against
 * these and the DynamoDB stores on dynalite, so the two cannot drift apart.
 *
 * `fail(method, error)` makes the next call of a method throw (forced faults).
 */
import {
  OPEN_ASSIGNMENT_STATES,
  TERMINAL_REPORT_STATUSES as TERMINAL,
  ZERO_COUNTS,
  type Assignment,
  type AssignmentState,
  type Deployment,
  type DeploymentCounts,
  type DeploymentState,
  type Device,
  type Firmware,
  type FirmwareState,
  type InferenceReason,
  type OfferOutcome,
  type OfferRecord,
  type Product,
  type StatusEntry,
} from '../../lambdas/core/model';
import { inFlightSortKey } from '../../lambdas/core/rollout';
import { versionIdentity } from '../../lambdas/core/version';
import { firmwareSk, type ProductInput, type VersionLock } from '../../lambdas/shared/store/catalog-store';
import { decodeCursor, encodeCursor, type Page } from '../../lambdas/shared/store/ddb';
import type { CounterName, InFlightOffer } from '../../lambdas/shared/store/deployment-store';
import {
  HISTORY_LIMIT,
  devicePk,
  type AssignOutcome,
  type DevicePatch,
  type ReportInput,
  type ReportOutcome,
  type SlotClaim,
} from '../../lambdas/shared/store/device-store';
import type { CatalogStorePort, DeploymentStorePort, DeviceStorePort } from '../../lambdas/shared/store/ports';

type Item = Record<string, unknown>;

/** What the document client stores: plain data, undefined values removed (removeUndefinedValues). */
const copy = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The error a failed condition raises where the DynamoDB store lets it through (e.g. setProductKeys). */
export class ConditionalCheckFailedException extends Error {
  override readonly name = 'ConditionalCheckFailedException';
  constructor() {
    super('The conditional request failed');
  }
}

/** One page of `sorted` (already in query order, each with its storage key) from `cursor`, Limit before filter. */
function page<T>(sorted: readonly { key: Item; value: T }[], opts: { limit?: number; cursor?: string }, keep: (v: T) => boolean = () => true): Page<T> {
  const start = decodeCursor(opts.cursor);
  const startAt = start ? sorted.findIndex((e) => JSON.stringify(e.key) === JSON.stringify(start)) + 1 : 0;
  const limit = opts.limit ?? 50;
  const evaluated = sorted.slice(startAt, startAt + limit);
  const last = evaluated.length === limit ? evaluated[evaluated.length - 1] : undefined;
  return {
    items: evaluated
      .map((e) => e.value)
      .filter(keep)
      .map(copy),
    cursor: last ? encodeCursor(last.key) : undefined,
  };
}

class Faults {
  private readonly pending = new Map<string, Error>();
  /** The next call of `method` throws `error`. */
  fail(method: string, error: Error = new Error(`forced fault in ${method}`)): void {
    this.pending.set(method, error);
  }
  protected check(method: string): void {
    const e = this.pending.get(method);
    if (!e) return;
    this.pending.delete(method);
    throw e;
  }
}

export class MemoryCatalogStore extends Faults implements CatalogStorePort {
  private readonly products = new Map<string, Item>();
  private readonly firmware = new Map<string, Map<number, Firmware>>();
  private readonly locks = new Map<string, VersionLock>();
  private readonly aliases = new Map<string, string>();

  async getProduct(productId: string): Promise<Product | undefined> {
    this.check('getProduct');
    const p = this.products.get(productId);
    if (!p) return undefined;
    const { buildCounter: _c, ...rest } = p;
    return copy(rest) as unknown as Product;
  }

  async putProduct(input: ProductInput, now: string): Promise<{ product: Product; created: boolean }> {
    this.check('putProduct');
    const item: Item = { ...this.products.get(input.productId) };
    item.createdAt ??= now;
    for (const [k, v] of Object.entries({ ...input, updatedAt: now })) {
      if (v === undefined) delete item[k];
      else item[k] = copy(v);
    }
    this.products.set(input.productId, item);
    const product = (await this.getProduct(input.productId))!;
    return { product, created: product.createdAt === now };
  }

  async allocateBuildNumber(productId: string): Promise<number> {
    this.check('allocateBuildNumber');
    const p = this.products.get(productId);
    if (!p) throw new ConditionalCheckFailedException();
    p.buildCounter = Number(p.buildCounter ?? 0) + 1;
    return p.buildCounter as number;
  }

  async getVersionLock(productId: string, version: string): Promise<VersionLock | undefined> {
    this.check('getVersionLock');
    return copy(this.locks.get(`${productId}\n${versionIdentity(version)}`));
  }

  async putVersionLock(lock: VersionLock): Promise<boolean> {
    this.check('putVersionLock');
    const k = `${lock.productId}\n${versionIdentity(lock.version)}`;
    if (this.locks.has(k)) return false;
    this.locks.set(k, copy(lock));
    return true;
  }

  async putFirmware(fw: Firmware): Promise<boolean> {
    this.check('putFirmware');
    const builds = this.firmware.get(fw.productId) ?? new Map<number, Firmware>();
    this.firmware.set(fw.productId, builds);
    if (builds.has(fw.build)) return false;
    builds.set(fw.build, copy(fw));
    return true;
  }

  async getFirmware(productId: string, build: number, _consistent = false): Promise<Firmware | undefined> {
    this.check('getFirmware');
    return copy(this.firmware.get(productId)?.get(build));
  }

  async listFirmware(productId: string, opts: { limit?: number; cursor?: string; state?: FirmwareState; version?: string } = {}): Promise<Page<Firmware>> {
    this.check('listFirmware');
    const sorted = [...(this.firmware.get(productId)?.values() ?? [])]
      .sort((a, b) => b.build - a.build)
      .map((fw) => ({ key: { pk: productId, sk: firmwareSk(fw.build) }, value: fw }));
    return page(sorted, opts, (fw) => (!opts.state || fw.state === opts.state) && (!opts.version || fw.version.startsWith(opts.version)));
  }

  async transitionFirmware(productId: string, build: number, from: readonly FirmwareState[], to: FirmwareState, now: string): Promise<Firmware | undefined> {
    this.check('transitionFirmware');
    const builds = this.firmware.get(productId);
    const fw = builds?.get(build);
    if (!builds || !fw || !from.includes(fw.state)) return undefined;
    const stamp = to === 'RELEASED' ? { releasedAt: now } : to === 'REVOKED' ? { revokedAt: now } : {};
    const next: Firmware = { ...fw, state: to, ...stamp };
    builds.set(build, next);
    return copy(next);
  }

  async setProductKeys(productId: string, current: string | undefined, previous: string | undefined): Promise<void> {
    this.check('setProductKeys');
    const p = this.products.get(productId);
    if (!p) throw new ConditionalCheckFailedException();
    for (const [k, v] of [
      ['productKeyHash', current],
      ['previousProductKeyHash', previous],
    ] as const) {
      if (v === undefined) delete p[k];
      else p[k] = v;
    }
  }

  async claimAlias(alias: string, productId: string): Promise<boolean> {
    this.check('claimAlias');
    const holder = this.aliases.get(alias);
    if (holder !== undefined && holder !== productId) return false;
    this.aliases.set(alias, productId);
    return true;
  }

  async releaseAlias(alias: string, productId: string): Promise<void> {
    this.check('releaseAlias');
    if (this.aliases.get(alias) === productId) this.aliases.delete(alias);
  }

  async resolveAlias(alias: string): Promise<string | undefined> {
    this.check('resolveAlias');
    return this.aliases.get(alias);
  }

  async listAliases(prefix: string): Promise<{ alias: string; productId: string }[]> {
    this.check('listAliases');
    return [...this.aliases.entries()]
      .filter(([alias]) => alias.startsWith(prefix))
      .sort(([a], [b]) => byKey(a, b))
      .map(([alias, productId]) => ({ alias, productId }));
  }

  async getFirmwareByVersion(productId: string, version: string): Promise<Firmware | undefined> {
    const lock = await this.getVersionLock(productId, version);
    return lock ? this.getFirmware(productId, lock.build) : undefined;
  }

  async listFirmwareInStates(productId: string, states: readonly FirmwareState[]): Promise<Firmware[]> {
    this.check('listFirmwareInStates');
    return [...(this.firmware.get(productId)?.values() ?? [])]
      .filter((fw) => states.includes(fw.state))
      .sort((a, b) => a.build - b.build)
      .map(copy);
  }
}

/** A deployment item: the domain object with counters and baseline as the store keeps them. */
interface DeploymentItem {
  d: Omit<Deployment, 'counts' | 'policyBaseline'> & { policyBaseline?: Deployment['policyBaseline'] };
  counts: Record<CounterName, number>;
  baseline?: Deployment['policyBaseline'];
}

export class MemoryDeploymentStore extends Faults implements DeploymentStorePort {
  private readonly items = new Map<string, DeploymentItem>();
  private readonly inFlight = new Map<string, Map<string, InFlightOffer>>();
  private readonly watchList = new Map<string, { productId: string; deploymentId: string }>();

  private item(productId: string, deploymentId: string): DeploymentItem | undefined {
    return this.items.get(`${productId}\n${deploymentId}`);
  }

  private static toDeployment(i: DeploymentItem): Deployment {
    return copy({ ...i.d, counts: { ...ZERO_COUNTS, ...i.counts } as DeploymentCounts, ...(i.baseline ? { policyBaseline: i.baseline } : {}) }) as Deployment;
  }

  /** Sets fields (undefined removes) and returns the deployment after the write. */
  private write(i: DeploymentItem, fields: Partial<Record<keyof Deployment, unknown>>): Deployment {
    const d: Item = { ...i.d };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) delete d[k];
      else d[k] = v;
    }
    i.d = d as unknown as DeploymentItem['d'];
    return MemoryDeploymentStore.toDeployment(i);
  }

  async create(d: Deployment): Promise<void> {
    this.check('create');
    const key = `${d.productId}\n${d.deploymentId}`;
    if (this.items.has(key)) throw new ConditionalCheckFailedException();
    const { counts, ...rest } = copy(d);
    this.items.set(key, { d: rest, counts: { ...counts } });
  }

  async get(productId: string, deploymentId: string, _consistent = false): Promise<Deployment | undefined> {
    this.check('get');
    const i = this.item(productId, deploymentId);
    return i ? MemoryDeploymentStore.toDeployment(i) : undefined;
  }

  async list(productId: string): Promise<Deployment[]> {
    this.check('list');
    return [...this.items.values()]
      .filter((i) => i.d.productId === productId)
      .sort((a, b) => byKey(a.d.deploymentId, b.d.deploymentId))
      .map(MemoryDeploymentStore.toDeployment);
  }

  async transition(
    productId: string,
    deploymentId: string,
    from: readonly DeploymentState[],
    to: DeploymentState,
    reason: string | undefined,
    now: string,
  ): Promise<Deployment | undefined> {
    this.check('transition');
    const i = this.item(productId, deploymentId);
    if (!i || !from.includes(i.d.state)) return undefined;
    return this.write(i, { state: to, updatedAt: now, stateReason: reason });
  }

  async raisePercentage(productId: string, deploymentId: string, percentage: number, now: string): Promise<Deployment | undefined> {
    this.check('raisePercentage');
    const i = this.item(productId, deploymentId);
    if (!i || !['active', 'paused'].includes(i.d.state) || !(i.d.percentage <= percentage)) return undefined;
    return this.write(i, { percentage, updatedAt: now });
  }

  async recordOffer(productId: string, deploymentId: string, increment: 0 | 1): Promise<boolean> {
    this.check('recordOffer');
    const i = this.item(productId, deploymentId);
    if (!i || i.d.state !== 'active') return false;
    i.counts.offered = (i.counts.offered ?? 0) + increment;
    return true;
  }

  async increment(productId: string, deploymentId: string, counter: CounterName | readonly CounterName[]): Promise<Deployment | undefined> {
    this.check('increment');
    const i = this.item(productId, deploymentId);
    if (!i) return undefined;
    for (const c of typeof counter === 'string' ? [counter] : counter) i.counts[c] = (i.counts[c] ?? 0) + 1;
    return MemoryDeploymentStore.toDeployment(i);
  }

  async autoPause(productId: string, deploymentId: string, reason: string, now: string): Promise<boolean> {
    this.check('autoPause');
    const i = this.item(productId, deploymentId);
    if (!i || i.d.state !== 'active') return false;
    this.write(i, { state: 'paused', stateReason: reason, updatedAt: now, autoPauses: (i.d.autoPauses ?? 0) + 1 });
    return true;
  }

  async resume(productId: string, deploymentId: string, now: string): Promise<Deployment | undefined> {
    this.check('resume');
    const i = this.item(productId, deploymentId);
    if (!i || i.d.state !== 'paused') return undefined;
    i.baseline = { succeeded: i.counts.succeeded ?? 0, failed: i.counts.failed ?? 0, rolledBack: i.counts.rolledBack ?? 0, timedOut: i.counts.timedOut ?? 0 };
    return this.write(i, { state: 'active', updatedAt: now, stateReason: undefined });
  }

  async advanceStep(
    productId: string,
    deploymentId: string,
    fromStep: number,
    toStep: number,
    percentage: number,
    now: string,
  ): Promise<Deployment | undefined> {
    this.check('advanceStep');
    const i = this.item(productId, deploymentId);
    if (!i || i.d.state !== 'active' || i.d.schedule?.currentStep !== fromStep || !(i.d.percentage <= percentage)) return undefined;
    return this.write(i, { percentage, schedule: { ...i.d.schedule, currentStep: toStep, stepStartedAt: now }, updatedAt: now });
  }

  async addInFlight(o: InFlightOffer): Promise<void> {
    this.check('addInFlight');
    const offers = this.inFlight.get(o.deploymentId) ?? new Map<string, InFlightOffer>();
    this.inFlight.set(o.deploymentId, offers);
    offers.set(inFlightSortKey(o.offeredAt, o.deviceId), copy(o));
  }

  async removeInFlight(deploymentId: string, offeredAt: string, deviceId: string): Promise<boolean> {
    this.check('removeInFlight');
    return this.inFlight.get(deploymentId)?.delete(inFlightSortKey(offeredAt, deviceId)) ?? false;
  }

  async overdueInFlight(deploymentId: string, cutoff: string, limit = 500): Promise<InFlightOffer[]> {
    this.check('overdueInFlight');
    return [...(this.inFlight.get(deploymentId)?.entries() ?? [])]
      .filter(([sk]) => sk < cutoff)
      .sort(([a], [b]) => byKey(a, b))
      .slice(0, limit)
      .map(([, o]) => ({ productId: o.productId, deploymentId: o.deploymentId, deviceId: o.deviceId, offeredAt: o.offeredAt }));
  }

  async watch(productId: string, deploymentId: string): Promise<void> {
    this.check('watch');
    this.watchList.set(`${productId}#${deploymentId}`, { productId, deploymentId });
  }

  async unwatch(productId: string, deploymentId: string): Promise<void> {
    this.check('unwatch');
    this.watchList.delete(`${productId}#${deploymentId}`);
  }

  async watched(): Promise<{ productId: string; deploymentId: string }[]> {
    this.check('watched');
    return [...this.watchList.entries()].sort(([a], [b]) => byKey(a, b)).map(([, w]) => ({ ...w }));
  }
}

/** A device item: the device plus the storage-only report de-duplication keys. */
interface DeviceItem {
  device: Item;
  outcomes: Set<string>;
  lastReportKey?: string;
}

export class MemoryDeviceStore extends Faults implements DeviceStorePort {
  private readonly items = new Map<string, DeviceItem>();
  private readonly quotas = new Map<string, number>();

  private static toDevice(i: DeviceItem): Device {
    const d = copy(i.device) as unknown as Device;
    return { ...d, failedBuilds: [...(d.failedBuilds ?? [])].sort((a, b) => a - b) };
  }

  private static addFailed(i: DeviceItem, builds: readonly number[], add: boolean): void {
    const set = new Set((i.device.failedBuilds as number[] | undefined) ?? []);
    for (const b of builds) {
      if (add) set.add(b);
      else set.delete(b);
    }
    if (set.size) i.device.failedBuilds = [...set];
    else delete i.device.failedBuilds;
  }

  private static append(i: DeviceItem, entries: readonly StatusEntry[]): number {
    const history = [...((i.device.history as StatusEntry[] | undefined) ?? []), ...copy(entries)];
    i.device.history = history;
    return history.length;
  }

  /** Once the history reaches twice the limit, the oldest entries are cut back to the limit. */
  private static trim(i: DeviceItem, length: number): void {
    const history = i.device.history as StatusEntry[] | undefined;
    if (length < 2 * HISTORY_LIMIT || history?.length !== length) return;
    i.device.history = history.slice(length - HISTORY_LIMIT);
  }

  private item(productId: string, deviceId: string): DeviceItem | undefined {
    return this.items.get(devicePk(productId, deviceId));
  }

  async get(productId: string, deviceId: string, _consistent = false): Promise<Device | undefined> {
    this.check('get');
    const i = this.item(productId, deviceId);
    return i ? MemoryDeviceStore.toDevice(i) : undefined;
  }

  async register(device: Device): Promise<boolean> {
    this.check('register');
    const pk = devicePk(device.productId, device.deviceId);
    if (this.items.has(pk)) return false;
    const { failedBuilds, ...rest } = copy(device);
    this.items.set(pk, { device: { ...rest, ...(failedBuilds.length ? { failedBuilds: [...new Set(failedBuilds)] } : {}) }, outcomes: new Set() });
    return true;
  }

  async update(productId: string, deviceId: string, patch: DevicePatch): Promise<Device | undefined> {
    this.check('update');
    if (!Object.keys(patch).length) return this.get(productId, deviceId);
    const i = this.item(productId, deviceId);
    if (!i) return undefined;
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete i.device[k];
      else i.device[k] = copy(v);
    }
    return MemoryDeviceStore.toDevice(i);
  }

  async recordReport(productId: string, deviceId: string, report: ReportInput): Promise<ReportOutcome> {
    this.check('recordReport');
    const key = `${report.build}:${report.status}`;
    const terminal = TERMINAL.has(report.status);
    const i = this.item(productId, deviceId);
    if (!i) return { kind: 'unknown_device' };
    if (terminal ? i.outcomes.has(key) : i.lastReportKey === key) return { kind: 'duplicate', device: MemoryDeviceStore.toDevice(i) };
    const lastStatus = {
      build: report.build,
      status: report.status,
      at: report.at,
      ...(report.deploymentId ? { deploymentId: report.deploymentId } : {}),
      ...(report.message ? { message: report.message } : {}),
    };
    i.device.lastStatus = lastStatus;
    i.device.lastSeen = report.at;
    i.lastReportKey = key;
    const length = MemoryDeviceStore.append(i, [lastStatus]);
    if (terminal) i.outcomes.add(key);
    if (report.status === 'success') {
      i.device.currentBuild = report.build;
      if (report.version) i.device.currentVersion = report.version;
    }
    if (report.status === 'failed' || report.status === 'rolled_back') MemoryDeviceStore.addFailed(i, [report.build], true);
    const device = MemoryDeviceStore.toDevice(i);
    MemoryDeviceStore.trim(i, length);
    return { kind: 'recorded', device };
  }

  async settleOffer(
    productId: string,
    deviceId: string,
    match: { readonly build: number; readonly deploymentId?: string },
    outcome: OfferOutcome,
    at: string,
    inferred?: { readonly reason: InferenceReason; readonly version?: string },
  ): Promise<OfferRecord | undefined> {
    this.check('settleOffer');
    const i = this.item(productId, deviceId);
    const offer = i?.device.lastOffer as OfferRecord | undefined;
    if (!i || !offer || offer.build !== match.build || offer.outcome !== undefined) return undefined;
    if (match.deploymentId && offer.deploymentId !== match.deploymentId) return undefined;
    i.device.lastOffer = { ...offer, outcome, settledAt: at, ...(inferred ? { inferred: true, reason: inferred.reason } : {}) };
    if (inferred) {
      if (outcome === 'succeeded') {
        i.device.currentBuild = match.build;
        if (inferred.version) i.device.currentVersion = inferred.version;
      } else MemoryDeviceStore.addFailed(i, [match.build], true);
    }
    let length: number | undefined;
    if (inferred || outcome === 'timed_out') {
      const status = outcome === 'succeeded' ? 'success' : outcome === 'timed_out' ? 'timed_out' : outcome === 'failed' ? 'failed' : 'rolled_back';
      length = MemoryDeviceStore.append(i, [
        {
          build: match.build,
          status,
          at,
          ...(match.deploymentId ? { deploymentId: match.deploymentId } : {}),
          ...(inferred ? { inferred: true, reason: inferred.reason } : {}),
        },
      ]);
    }
    const settled = MemoryDeviceStore.toDevice(i).lastOffer;
    if (length !== undefined) MemoryDeviceStore.trim(i, length);
    return settled;
  }

  async markOfferStep(
    productId: string,
    deviceId: string,
    build: number,
    step: 'downloadingAt' | 'installingAt' | 'downloadedAt',
    at: string,
  ): Promise<OfferRecord | undefined> {
    this.check('markOfferStep');
    const i = this.item(productId, deviceId);
    const offer = i?.device.lastOffer as OfferRecord | undefined;
    if (!i || !offer || offer.build !== build || offer.outcome !== undefined || offer[step] !== undefined) return undefined;
    i.device.lastOffer = { ...offer, [step]: at };
    const length = step === 'downloadedAt' ? MemoryDeviceStore.append(i, [{ build, status: 'downloaded', at }]) : undefined;
    const marked = MemoryDeviceStore.toDevice(i).lastOffer;
    if (length !== undefined) MemoryDeviceStore.trim(i, length);
    return marked;
  }

  async clearFailedBuilds(productId: string, deviceId: string, builds: readonly number[], at: string, message: string): Promise<Device | undefined> {
    this.check('clearFailedBuilds');
    if (!builds.length) return this.get(productId, deviceId, true);
    const i = this.item(productId, deviceId);
    if (!i) return undefined;
    const length = MemoryDeviceStore.append(
      i,
      builds.map((build) => ({ build, status: 'failed_build_cleared' as const, at, message })),
    );
    MemoryDeviceStore.addFailed(i, builds, false);
    const device = MemoryDeviceStore.toDevice(i);
    MemoryDeviceStore.trim(i, length);
    return device;
  }

  async listByProduct(productId: string, opts: { limit?: number; cursor?: string; prefix?: string } = {}): Promise<Page<Device>> {
    this.check('listByProduct');
    const sorted = [...this.items.entries()]
      .filter(
        ([, i]) =>
          i.device.productId === productId && typeof i.device.deviceId === 'string' && (!opts.prefix || (i.device.deviceId as string).startsWith(opts.prefix)),
      )
      .sort(([, a], [, b]) => byKey(a.device.deviceId as string, b.device.deviceId as string))
      .map(([pk, i]) => ({ key: { productId, deviceId: i.device.deviceId, pk }, value: i }));
    const p = page(sorted, opts);
    return { items: p.items.map(MemoryDeviceStore.toDevice), cursor: p.cursor };
  }

  async assign(productId: string, deviceId: string, assignment: Assignment, replace: boolean): Promise<AssignOutcome> {
    this.check('assign');
    const i = this.item(productId, deviceId);
    if (!i) return 'unknown_device';
    const open = i.device.assignment as Assignment | undefined;
    if (!replace && open && OPEN_ASSIGNMENT_STATES.includes(open.state)) return open.build === assignment.build ? 'unchanged' : 'conflict';
    i.device.assignment = copy(assignment);
    return 'assigned';
  }

  async transitionAssignment(
    productId: string,
    deviceId: string,
    assignmentId: string,
    from: readonly AssignmentState[],
    to: AssignmentState,
    now: string,
  ): Promise<boolean> {
    this.check('transitionAssignment');
    const a = this.item(productId, deviceId)?.device.assignment as Assignment | undefined;
    if (!a || a.assignmentId !== assignmentId || !from.includes(a.state)) return false;
    this.item(productId, deviceId)!.device.assignment = { ...a, state: to, updatedAt: now };
    return true;
  }

  async cancelAssignment(productId: string, deviceId: string): Promise<boolean> {
    this.check('cancelAssignment');
    const i = this.item(productId, deviceId);
    const a = i?.device.assignment as Assignment | undefined;
    if (!i || !a || !OPEN_ASSIGNMENT_STATES.includes(a.state)) return false;
    delete i.device.assignment;
    return true;
  }

  private readonly slots = new Set<string>();

  async claimDeviceSlot(productId: string, deviceId: string, quota: number): Promise<SlotClaim> {
    this.check('claimDeviceSlot');
    const slot = `${productId}#${deviceId}`;
    if (this.slots.has(slot)) return 'held';
    const registered = this.quotas.get(productId);
    if (registered !== undefined && !(registered < quota)) return 'full';
    this.quotas.set(productId, (registered ?? 0) + 1);
    this.slots.add(slot);
    return 'claimed';
  }

  async releaseDeviceSlot(productId: string, deviceId: string): Promise<void> {
    this.check('releaseDeviceSlot');
    if (!this.slots.delete(`${productId}#${deviceId}`)) return;
    this.quotas.set(productId, (this.quotas.get(productId) ?? 0) - 1);
  }

  async registeredCount(productId: string): Promise<number> {
    this.check('registeredCount');
    return this.quotas.get(productId) ?? 0;
  }

  async setToken(device: Device, tokenHash: string): Promise<void> {
    this.check('setToken');
    if (await this.register({ ...device, tokenHash })) return;
    // An unconditional update: creates a bare item should the device have vanished meanwhile.
    const pk = devicePk(device.productId, device.deviceId);
    const i = this.items.get(pk) ?? { device: {}, outcomes: new Set<string>() };
    this.items.set(pk, i);
    i.device.tokenHash = tokenHash;
  }

  async findByGlobalId(deviceId: string): Promise<Device[]> {
    this.check('findByGlobalId');
    return [...this.items.values()]
      .filter((i) => i.device.globalId === deviceId)
      .slice(0, 2)
      .map(MemoryDeviceStore.toDevice);
  }
}

/** The three stores, fresh. */
export const memoryStores = () => ({ catalog: new MemoryCatalogStore(), deployments: new MemoryDeploymentStore(), devices: new MemoryDeviceStore() });
