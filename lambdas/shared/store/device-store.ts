/**
 * Devices: one item per device, pk = `<productId>#<deviceId>` so a large fleet spreads over
 * many partitions. A steady-state check is exactly one GetItem on this table.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  OPEN_ASSIGNMENT_STATES,
  TERMINAL_REPORT_STATUSES as TERMINAL,
  type Assignment,
  type AssignmentState,
  type Device,
  type DeviceReportStatus,
  type InferenceReason,
  type OfferOutcome,
  type OfferRecord,
  type StatusEntry,
} from '../../core/model';
import { conditionally, decodeCursor, encodeCursor, isConditionalCheckFailed, numberSetToArray, type Page } from './ddb';

export const devicePk = (productId: string, deviceId: string): string => `${productId}#${deviceId}`;

/** Storage-only attributes: report de-duplication keys. */
const INTERNAL = ['pk', 'outcomes', 'lastReportKey'];

function toDevice(item: Record<string, unknown>): Device {
  const out: Record<string, unknown> = { ...item };
  for (const k of INTERNAL) delete out[k];
  out.failedBuilds = numberSetToArray(item.failedBuilds);
  return out as unknown as Device;
}

/** Attributes a check or report may change on a device. */
export type DevicePatch = Partial<
  Pick<
    Device,
    | 'currentVersion'
    | 'currentBuild'
    | 'board'
    | 'chip'
    | 'hwRevision'
    | 'channel'
    | 'active'
    | 'lastSeen'
    | 'lastOffer'
    | 'info'
    | 'autoUpdate'
    | 'globalId'
    | 'groups'
    | 'tags'
  >
>;

export type AssignOutcome = 'assigned' | 'unchanged' | 'conflict' | 'unknown_device';

export interface ReportInput {
  readonly build: number;
  readonly status: DeviceReportStatus;
  readonly at: string;
  /** Version of `build`, recorded as the device's current version on success. */
  readonly version?: string;
  readonly deploymentId?: string;
  readonly message?: string;
}

export type ReportOutcome =
  { readonly kind: 'recorded'; readonly device: Device } | { readonly kind: 'duplicate'; readonly device: Device } | { readonly kind: 'unknown_device' };

/** See DeviceStore.claimDeviceSlot. */
export type SlotClaim = 'claimed' | 'held' | 'full';
const slotPk = (productId: string, deviceId: string) => `@slot#${productId}#${deviceId}`;
const SLOT_WAIT_ATTEMPTS = 80;
const SLOT_WAIT_MS = 25;
const SLOT_PENDING_STALE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Status reports kept per device (between HISTORY_LIMIT and twice that). */
export const HISTORY_LIMIT = 20;

export class DeviceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(productId: string, deviceId: string, consistent = false): Promise<Device | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: devicePk(productId, deviceId) }, ConsistentRead: consistent }));
    return r.Item ? toDevice(r.Item) : undefined;
  }

  /** Registers a new device; false if it already exists (a concurrent first check won). */
  async register(device: Device): Promise<boolean> {
    const { failedBuilds, ...rest } = device;
    return (
      (await conditionally(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: devicePk(device.productId, device.deviceId), ...rest, ...(failedBuilds.length ? { failedBuilds: new Set(failedBuilds) } : {}) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      )) !== undefined
    );
  }

  /** Applies a patch to an existing device (undefined values are removed). Returns the new device, or undefined if it does not exist. */
  async update(productId: string, deviceId: string, patch: DevicePatch): Promise<Device | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    Object.entries(patch).forEach(([k, v], i) => {
      names[`#a${i}`] = k;
      if (v === undefined) removes.push(`#a${i}`);
      else {
        values[`:v${i}`] = v;
        sets.push(`#a${i} = :v${i}`);
      }
    });
    if (!sets.length && !removes.length) return this.get(productId, deviceId);
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: devicePk(productId, deviceId) },
          UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    return toDevice(r.Attributes!);
  }

  /**
   * Records a status report exactly once. Terminal outcomes (success / failed / rolled_back) are
   * de-duplicated per build with a key set on the item; progress reports are de-duplicated
   * against the previous report. The condition makes a retried or duplicated report a no-op,
   * so deployment counters are bumped only for `recorded`.
   */
  async recordReport(productId: string, deviceId: string, report: ReportInput): Promise<ReportOutcome> {
    const key = `${report.build}:${report.status}`;
    const terminal = TERMINAL.has(report.status);
    const lastStatus = {
      build: report.build,
      status: report.status,
      at: report.at,
      ...(report.deploymentId ? { deploymentId: report.deploymentId } : {}),
      ...(report.message ? { message: report.message } : {}),
    };
    const sets = ['lastStatus = :ls', 'lastSeen = :at', 'lastReportKey = :k', 'history = list_append(if_not_exists(history, :none), :entry)'];
    const adds: string[] = [];
    const values: Record<string, unknown> = { ':ls': lastStatus, ':at': report.at, ':k': key, ':none': [], ':entry': [lastStatus] };
    if (terminal) {
      adds.push('outcomes :kset');
      values[':kset'] = new Set([key]);
    }
    if (report.status === 'success') {
      sets.push('currentBuild = :b');
      values[':b'] = report.build;
      if (report.version) {
        sets.push('currentVersion = :v');
        values[':v'] = report.version;
      }
    }
    if (report.status === 'failed' || report.status === 'rolled_back') {
      adds.push('failedBuilds :bset');
      values[':bset'] = new Set([report.build]);
    }
    const condition = terminal
      ? 'attribute_exists(pk) AND (attribute_not_exists(outcomes) OR NOT contains(outcomes, :k))'
      : 'attribute_exists(pk) AND (attribute_not_exists(lastReportKey) OR lastReportKey <> :k)';
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: devicePk(productId, deviceId) },
          UpdateExpression: `SET ${sets.join(', ')}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const device = toDevice(r.Attributes!);
      await this.trimHistory(productId, deviceId, device.history?.length ?? 0);
      return { kind: 'recorded', device };
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
      const device = await this.get(productId, deviceId, true);
      return device ? { kind: 'duplicate', device } : { kind: 'unknown_device' };
    }
  }

  /**
   * Settles the device's open offer of `build` (optionally: from `deploymentId`) as `outcome` —
   * the one conditional write that makes each offer count at most once, whoever gets there first
   * (a report, an inference at check-in, the timeout sweeper). Returns the offer as it was, or
   * undefined when there is no such open offer (never offered, superseded, or already settled).
   * An inferred outcome also carries its effects on the device: the entry in its history, the
   * build it now runs (success) or never gets again (failure).
   */
  async settleOffer(
    productId: string,
    deviceId: string,
    match: { readonly build: number; readonly deploymentId?: string },
    outcome: OfferOutcome,
    at: string,
    inferred?: { readonly reason: InferenceReason; readonly version?: string },
  ): Promise<OfferRecord | undefined> {
    const sets = ['lastOffer.outcome = :o', 'lastOffer.settledAt = :at'];
    const adds: string[] = [];
    const values: Record<string, unknown> = { ':o': outcome, ':at': at, ':b': match.build };
    const conditions = ['lastOffer.build = :b', 'attribute_not_exists(lastOffer.outcome)'];
    if (match.deploymentId) {
      conditions.push('lastOffer.deploymentId = :d');
      values[':d'] = match.deploymentId;
    }
    const entry: StatusEntry | undefined =
      inferred || outcome === 'timed_out'
        ? {
            build: match.build,
            status: outcome === 'succeeded' ? 'success' : outcome === 'timed_out' ? 'timed_out' : outcome === 'failed' ? 'failed' : 'rolled_back',
            at,
            ...(match.deploymentId ? { deploymentId: match.deploymentId } : {}),
            ...(inferred ? { inferred: true, reason: inferred.reason } : {}),
          }
        : undefined;
    if (inferred) {
      sets.push('lastOffer.inferred = :t', 'lastOffer.reason = :r');
      values[':t'] = true;
      values[':r'] = inferred.reason;
      if (outcome === 'succeeded') {
        sets.push('currentBuild = :b');
        if (inferred.version) {
          sets.push('currentVersion = :v');
          values[':v'] = inferred.version;
        }
      } else {
        adds.push('failedBuilds :bset');
        values[':bset'] = new Set([match.build]);
      }
    }
    if (entry) {
      sets.push('history = list_append(if_not_exists(history, :none), :entry)');
      values[':none'] = [];
      values[':entry'] = [entry];
    }
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: devicePk(productId, deviceId) },
          UpdateExpression: `SET ${sets.join(', ')}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const device = toDevice(r.Attributes!);
      if (entry) await this.trimHistory(productId, deviceId, device.history?.length ?? 0);
      return device.lastOffer;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return undefined;
      throw e;
    }
  }

  /**
   * Marks a step of the device's open offer of `build` — a progress report (`downloadingAt`,
   * `installingAt`) or a completed download (`downloadedAt`) — once per offer. Returns the offer
   * after the mark, or undefined when there is no such open offer or the step was already marked.
   */
  async markOfferStep(
    productId: string,
    deviceId: string,
    build: number,
    step: 'downloadingAt' | 'installingAt' | 'downloadedAt',
    at: string,
  ): Promise<OfferRecord | undefined> {
    const history = step === 'downloadedAt';
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: devicePk(productId, deviceId) },
          UpdateExpression: `SET lastOffer.#step = :at${history ? ', history = list_append(if_not_exists(history, :none), :entry)' : ''}`,
          ConditionExpression: 'lastOffer.build = :b AND attribute_not_exists(lastOffer.outcome) AND attribute_not_exists(lastOffer.#step)',
          ExpressionAttributeNames: { '#step': step },
          ExpressionAttributeValues: {
            ':at': at,
            ':b': build,
            ...(history ? { ':none': [], ':entry': [{ build, status: 'downloaded', at }] } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    const device = toDevice(r.Attributes!);
    if (history) await this.trimHistory(productId, deviceId, device.history?.length ?? 0);
    return device.lastOffer;
  }

  /**
   * Removes builds from the device's failed builds (an operator retry), each recorded in its
   * history. Undefined when the device does not exist.
   */
  async clearFailedBuilds(productId: string, deviceId: string, builds: readonly number[], at: string, message: string): Promise<Device | undefined> {
    if (!builds.length) return this.get(productId, deviceId, true);
    const entries: StatusEntry[] = builds.map((build) => ({ build, status: 'failed_build_cleared', at, message }));
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: devicePk(productId, deviceId) },
          UpdateExpression: 'SET history = list_append(if_not_exists(history, :none), :entries) DELETE failedBuilds :builds',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':none': [], ':entries': entries, ':builds': new Set(builds) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    const device = toDevice(r.Attributes!);
    await this.trimHistory(productId, deviceId, device.history?.length ?? 0);
    return device;
  }

  /**
   * Keeps the status history bounded: once it reaches twice the limit, the oldest entries are cut
   * back to the limit (one conditional write every HISTORY_LIMIT reports; a concurrent trim loses).
   */
  private async trimHistory(productId: string, deviceId: string, length: number): Promise<void> {
    if (length < 2 * HISTORY_LIMIT) return;
    const drop = length - HISTORY_LIMIT;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: devicePk(productId, deviceId) },
          UpdateExpression: `REMOVE ${Array.from({ length: drop }, (_, i) => `history[${i}]`).join(', ')}`,
          ConditionExpression: 'size(history) = :n',
          ExpressionAttributeValues: { ':n': length },
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }

  /** A product's devices ordered by id (operator listing; GSI, never on a device path). */
  async listByProduct(productId: string, opts: { limit?: number; cursor?: string; prefix?: string } = {}): Promise<Page<Device>> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byProduct',
        KeyConditionExpression: opts.prefix ? 'productId = :p AND begins_with(deviceId, :pre)' : 'productId = :p',
        ExpressionAttributeValues: { ':p': productId, ...(opts.prefix ? { ':pre': opts.prefix } : {}) },
        Limit: opts.limit ?? 50,
        ExclusiveStartKey: decodeCursor(opts.cursor),
      }),
    );
    return { items: (r.Items ?? []).map(toDevice), cursor: encodeCursor(r.LastEvaluatedKey) };
  }

  /**
   * Gives a device an assignment. At most one open (pending/delivered) assignment per device:
   * another is refused unless `replace`. Re-assigning the build that is already open is a no-op.
   */
  async assign(productId: string, deviceId: string, assignment: Assignment, replace: boolean): Promise<AssignOutcome> {
    const open = OPEN_ASSIGNMENT_STATES.map((_, i) => `:o${i}`).join(', ');
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: devicePk(productId, deviceId) },
          UpdateExpression: 'SET assignment = :a',
          ConditionExpression: replace
            ? 'attribute_exists(pk)'
            : `attribute_exists(pk) AND (attribute_not_exists(assignment) OR NOT assignment.#state IN (${open}))`,
          ExpressionAttributeNames: replace ? undefined : { '#state': 'state' },
          ExpressionAttributeValues: {
            ':a': assignment,
            ...(replace ? {} : Object.fromEntries(OPEN_ASSIGNMENT_STATES.map((st, i) => [`:o${i}`, st]))),
          },
        }),
      );
      return 'assigned';
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
      const device = await this.get(productId, deviceId, true);
      if (!device) return 'unknown_device';
      return device.assignment?.build === assignment.build ? 'unchanged' : 'conflict';
    }
  }

  /**
   * Moves the device's assignment `assignmentId` from one of `from` to `to`. Conditional on the id,
   * so a transition can never land on an assignment that replaced it. False when it did not apply.
   */
  async transitionAssignment(
    productId: string,
    deviceId: string,
    assignmentId: string,
    from: readonly AssignmentState[],
    to: AssignmentState,
    now: string,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: devicePk(productId, deviceId) },
          UpdateExpression: 'SET assignment.#state = :to, assignment.updatedAt = :now',
          ConditionExpression: `assignment.assignmentId = :id AND assignment.#state IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':to': to, ':now': now, ':id': assignmentId, ...Object.fromEntries(from.map((st, i) => [`:f${i}`, st])) },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return false;
      throw e;
    }
  }

  /** Removes an open assignment (operator cancel). False when there was none. */
  async cancelAssignment(productId: string, deviceId: string): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: devicePk(productId, deviceId) },
            UpdateExpression: 'REMOVE assignment',
            ConditionExpression: `assignment.#state IN (${OPEN_ASSIGNMENT_STATES.map((_, i) => `:o${i}`).join(', ')})`,
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: Object.fromEntries(OPEN_ASSIGNMENT_STATES.map((st, i) => [`:o${i}`, st])),
          }),
        ),
      )) !== undefined
    );
  }

  /**
   * Takes one of a product's device slots for `deviceId`, once per device: a claim item
   * (`@slot#<productId>#<deviceId>`) is put first, conditionally, so concurrent first checks of
   * the same device share one slot instead of each taking one (50 concurrent first checks of one
   * device used to fill a quota of 10 and answer the rest `over_limit`). Only the request that put
   * the claim item touches the counter (`@quota#<productId>`, kept below the quota); the others
   * wait for its verdict. `claimed`: this request took the slot (it registers the device and
   * releases the slot if it cannot); `held`: a concurrent request of this device holds it;
   * `full`: the product is full. Only registrations call it, never a steady-state check.
   */
  async claimDeviceSlot(productId: string, deviceId: string, quota: number): Promise<SlotClaim> {
    const Key = { pk: slotPk(productId, deviceId) };
    for (let attempt = 0; attempt < SLOT_WAIT_ATTEMPTS; attempt++) {
      const at = new Date().toISOString();
      try {
        await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...Key, state: 'pending', at }, ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (e) {
        if (!isConditionalCheckFailed(e)) throw e;
        const holder = (await this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true }))).Item;
        if (holder?.state === 'granted') return 'held';
        if (holder && Date.now() - Date.parse(String(holder.at)) > SLOT_PENDING_STALE_MS) {
          // Its holder died between claim and verdict: take the claim over.
          await this.doc
            .send(
              new DeleteCommand({
                TableName: this.table,
                Key,
                ConditionExpression: '#s = :p AND #at = :at',
                ExpressionAttributeNames: { '#s': 'state', '#at': 'at' },
                ExpressionAttributeValues: { ':p': 'pending', ':at': holder.at },
              }),
            )
            .catch((err) => {
              if (!isConditionalCheckFailed(err)) throw err;
            });
        } else if (holder) await sleep(SLOT_WAIT_MS);
        continue; // gone (the holder found the product full) or taken over: try again
      }
      let granted: boolean;
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: `@quota#${productId}` },
            UpdateExpression: 'ADD registered :one',
            ConditionExpression: 'attribute_not_exists(registered) OR registered < :quota',
            ExpressionAttributeValues: { ':one': 1, ':quota': quota },
          }),
        );
        granted = true;
      } catch (e) {
        if (!isConditionalCheckFailed(e)) {
          await this.doc.send(new DeleteCommand({ TableName: this.table, Key })).catch(() => undefined);
          throw e;
        }
        granted = false;
      }
      if (!granted) {
        await this.doc.send(new DeleteCommand({ TableName: this.table, Key }));
        return 'full';
      }
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: 'SET #s = :g',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':g': 'granted' },
        }),
      );
      return 'claimed';
    }
    // A concurrent request of this device is still deciding: answer as a device whose slot it holds (it registers it).
    return 'held';
  }

  /** Gives this device's slot back (its registration lost a race or failed); a no-op when it holds none. */
  async releaseDeviceSlot(productId: string, deviceId: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: slotPk(productId, deviceId) }, ConditionExpression: 'attribute_exists(pk)' }));
    } catch (e) {
      if (isConditionalCheckFailed(e)) return;
      throw e;
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `@quota#${productId}` },
        UpdateExpression: 'ADD registered :minus',
        ExpressionAttributeValues: { ':minus': -1 },
      }),
    );
  }

  /** Slots a product's devices hold (the quota counter). */
  async registeredCount(productId: string): Promise<number> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `@quota#${productId}` }, ConsistentRead: true }));
    return Number(r.Item?.registered ?? 0);
  }

  /** Sets a device's token hash, registering the device first when it is new. */
  async setToken(device: Device, tokenHash: string): Promise<void> {
    if (await this.register({ ...device, tokenHash })) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: devicePk(device.productId, device.deviceId) },
        UpdateExpression: 'SET tokenHash = :h',
        ExpressionAttributeValues: { ':h': tokenHash },
      }),
    );
  }

  /**
   * Devices with this global id (IoTaaP: the id alone names the device). One Query on a sparse
   * index: only devices of IoTaaP-bound products carry `globalId`.
   */
  async findByGlobalId(deviceId: string): Promise<Device[]> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byGlobalId',
        KeyConditionExpression: 'globalId = :id',
        ExpressionAttributeValues: { ':id': deviceId },
        Limit: 2,
      }),
    );
    return (r.Items ?? []).map(toDevice);
  }
}
