/**
 * Products, firmware builds and version locks, all in the firmware table under pk = productId:
 *   sk `#PRODUCT`          product config + `buildCounter` (atomic counter → build numbers)
 *   sk `FW#<build,10 digits>` one firmware build (query in build order)
 *   sk `VER#<version>`     version lock: first upload of a version wins (conditional put)
 * and protocol aliases under pk = `@alias` (how seed protocols without a product id find one):
 *   sk `firefly#<class>#<hex>`  ·  `cheeko#<application>` / `cheeko#*`  ·  `iotaap#<productId>`
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Firmware, FirmwareState, Product } from '../../core/model';
import { versionIdentity } from '../../core/version';
import { conditionally, decodeCursor, encodeCursor, isConditionalCheckFailed, queryAll, stripKeys, type Page } from './ddb';

const PRODUCT_SK = '#PRODUCT';
export const firmwareSk = (build: number): string => `FW#${String(build).padStart(10, '0')}`;
/** Keyed by identity, so `v1.3.0` and `1.3.0+5` find the lock of `1.3.0` (one version, one build). */
const versionSk = (version: string): string => `VER#${versionIdentity(version)}`;

export interface VersionLock {
  readonly productId: string;
  readonly version: string;
  /** 0 while the claiming ingest has not been given its number yet. */
  readonly build: number;
  readonly contentDigest: string;
  readonly source: string;
  readonly createdAt: string;
}

export const ALIAS_PK = '@alias';

export type ProductInput = Omit<Product, 'createdAt' | 'updatedAt'>;

export class CatalogStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getProduct(productId: string): Promise<Product | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: productId, sk: PRODUCT_SK } }));
    return r.Item ? stripKeys<Product>(r.Item, 'buildCounter', 'activeSigningKeys') : undefined;
  }

  /** Creates or updates a product; keeps createdAt and the build counter. Returns the stored product. */
  async putProduct(input: ProductInput, now: string): Promise<{ product: Product; created: boolean }> {
    const fields: Record<string, unknown> = { ...input, updatedAt: now };
    const names: Record<string, string> = { '#createdAt': 'createdAt' };
    const values: Record<string, unknown> = { ':now': now };
    const sets = ['#createdAt = if_not_exists(#createdAt, :now)'];
    const removes: string[] = [];
    Object.entries(fields).forEach(([k, v], i) => {
      if (k === 'productId') return;
      names[`#f${i}`] = k;
      if (v === undefined) removes.push(`#f${i}`);
      else {
        values[`:f${i}`] = v;
        sets.push(`#f${i} = :f${i}`);
      }
    });
    names['#productId'] = 'productId';
    values[':pid'] = input.productId;
    sets.push('#productId = :pid');
    const r = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: input.productId, sk: PRODUCT_SK },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const product = stripKeys<Product>(r.Attributes!, 'buildCounter', 'activeSigningKeys');
    return { product, created: product.createdAt === now };
  }

  /**
   * Allocates the next build number of a product: an atomic counter, so numbers are strictly
   * increasing and never handed out twice, even to concurrent ingests. A crash after allocation
   * leaves a gap, which is allowed.
   */
  async allocateBuildNumber(productId: string): Promise<number> {
    const r = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: productId, sk: PRODUCT_SK },
        UpdateExpression: 'ADD buildCounter :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(r.Attributes!.buildCounter);
  }

  /**
   * Hands a build number back after the build it was allocated for failed before being recorded:
   * only while it is still the latest allocated (so numbers stay strictly increasing and none is
   * handed out twice). Returns whether it was handed back; if not, it stays a gap.
   */
  async releaseBuildNumber(productId: string, build: number): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: productId, sk: PRODUCT_SK },
            UpdateExpression: 'SET buildCounter = :prev',
            ConditionExpression: 'buildCounter = :n',
            ExpressionAttributeValues: { ':n': build, ':prev': build - 1 },
          }),
        ),
      )) !== undefined
    );
  }

  /** Completes a claim (build 0) with its allocated build number; false when the claim is no longer there. */
  async setVersionLockBuild(productId: string, version: string, contentDigest: string, build: number): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: productId, sk: versionSk(version) },
            UpdateExpression: 'SET #build = :b',
            ConditionExpression: '#build = :zero AND contentDigest = :d',
            ExpressionAttributeNames: { '#build': 'build' },
            ExpressionAttributeValues: { ':b': build, ':zero': 0, ':d': contentDigest },
          }),
        ),
      )) !== undefined
    );
  }

  /** Drops a version lock that an ingest claimed but could not record (only if it is still that claim). */
  async deleteVersionLock(productId: string, version: string, build: number, contentDigest: string): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { pk: productId, sk: versionSk(version) },
            ConditionExpression: '#build = :b AND contentDigest = :d',
            ExpressionAttributeNames: { '#build': 'build' },
            ExpressionAttributeValues: { ':b': build, ':d': contentDigest },
          }),
        ),
      )) !== undefined
    );
  }

  async getVersionLock(productId: string, version: string): Promise<VersionLock | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: productId, sk: versionSk(version) }, ConsistentRead: true }));
    return r.Item ? stripKeys<VersionLock>(r.Item) : undefined;
  }

  /** First writer wins. Returns false when the version is already locked. */
  async putVersionLock(lock: VersionLock): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: lock.productId, sk: versionSk(lock.version), ...lock },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      )) !== undefined
    );
  }

  /** Writes a build once. Returns false when it already exists (duplicate event). */
  async putFirmware(fw: Firmware): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: fw.productId, sk: firmwareSk(fw.build), ...fw },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      )) !== undefined
    );
  }

  async getFirmware(productId: string, build: number, consistent = false): Promise<Firmware | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: productId, sk: firmwareSk(build) }, ConsistentRead: consistent }));
    return r.Item ? stripKeys<Firmware>(r.Item) : undefined;
  }

  /** Builds of a product, newest first. */
  async listFirmware(productId: string, opts: { limit?: number; cursor?: string; state?: FirmwareState; version?: string } = {}): Promise<Page<Firmware>> {
    const filters: string[] = [];
    const values: Record<string, unknown> = { ':pk': productId, ':fw': 'FW#' };
    if (opts.state) {
      filters.push('#state = :state');
      values[':state'] = opts.state;
    }
    if (opts.version) {
      filters.push('begins_with(version, :version)');
      values[':version'] = opts.version;
    }
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :fw)',
        ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
        ...(opts.state ? { ExpressionAttributeNames: { '#state': 'state' } } : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: opts.limit ?? 50,
        ExclusiveStartKey: decodeCursor(opts.cursor),
      }),
    );
    return { items: (r.Items ?? []).map((i) => stripKeys<Firmware>(i)), cursor: encodeCursor(r.LastEvaluatedKey) };
  }

  /**
   * Moves a build between lifecycle states (DRAFT → RELEASED → REVOKED). Conditional on the
   * current state so concurrent operators cannot skip a step. Returns the updated build, or
   * undefined when the build does not exist or is not in one of `from`.
   */
  async transitionFirmware(productId: string, build: number, from: readonly FirmwareState[], to: FirmwareState, now: string): Promise<Firmware | undefined> {
    const stamp = to === 'RELEASED' ? 'releasedAt' : to === 'REVOKED' ? 'revokedAt' : undefined;
    const values: Record<string, unknown> = { ':to': to };
    from.forEach((s, i) => (values[`:from${i}`] = s));
    if (stamp) values[':now'] = now;
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: firmwareSk(build) },
          UpdateExpression: `SET #state = :to${stamp ? `, ${stamp} = :now` : ''}`,
          ConditionExpression: `attribute_exists(pk) AND #state IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    return stripKeys<Firmware>(r.Attributes!);
  }

  /** Sets the product key hash and the still-accepted previous one (undefined removes it). */
  async setProductKeys(productId: string, current: string | undefined, previous: string | undefined): Promise<void> {
    const sets: string[] = [];
    const removes: string[] = [];
    const values: Record<string, unknown> = {};
    for (const [name, v] of [
      ['productKeyHash', current],
      ['previousProductKeyHash', previous],
    ] as const) {
      if (v === undefined) removes.push(name);
      else {
        sets.push(`${name} = :${name}`);
        values[`:${name}`] = v;
      }
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: productId, sk: PRODUCT_SK },
        UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
        ConditionExpression: 'attribute_exists(pk)',
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      }),
    );
  }

  /** Claims a protocol alias for a product; false when another product holds it. */
  async claimAlias(alias: string, productId: string): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: ALIAS_PK, sk: alias, productId },
            ConditionExpression: 'attribute_not_exists(pk) OR productId = :p',
            ExpressionAttributeValues: { ':p': productId },
          }),
        ),
      )) !== undefined
    );
  }

  /** Drops an alias if (and only if) this product holds it. */
  async releaseAlias(alias: string, productId: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: ALIAS_PK, sk: alias },
          ConditionExpression: 'productId = :p',
          ExpressionAttributeValues: { ':p': productId },
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }

  /** The product holding an alias. */
  async resolveAlias(alias: string): Promise<string | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: ALIAS_PK, sk: alias } }));
    return r.Item?.productId as string | undefined;
  }

  /** Aliases starting with `prefix` (operator paths only), alias → productId. */
  async listAliases(prefix: string): Promise<{ alias: string; productId: string }[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :pre)',
      ExpressionAttributeValues: { ':pk': ALIAS_PK, ':pre': prefix },
    });
    return items.map((i) => ({ alias: i.sk as string, productId: i.productId as string }));
  }

  /** The build recorded for a version, via its version lock. */
  async getFirmwareByVersion(productId: string, version: string): Promise<Firmware | undefined> {
    const lock = await this.getVersionLock(productId, version);
    return lock && lock.build > 0 ? this.getFirmware(productId, lock.build) : undefined;
  }

  /** Every build of a product in the given states, oldest first (protocol lookups cache this). */
  async listFirmwareInStates(productId: string, states: readonly FirmwareState[]): Promise<Firmware[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :fw)',
      FilterExpression: `#state IN (${states.map((_, i) => `:s${i}`).join(', ')})`,
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':pk': productId, ':fw': 'FW#', ...Object.fromEntries(states.map((st, i) => [`:s${i}`, st])) },
    });
    return items.map((i) => stripKeys<Firmware>(i));
  }
}
