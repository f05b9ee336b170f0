/**
 * Deployments, pk = productId, sk = deploymentId; plus, in their own partitions,
 *   pk `@inflight#<deploymentId>`, sk `<offeredAt>#<deviceId>`: offers not yet finished (timeouts);
 *   pk `@rollouts`, sk `<productId>#<deploymentId>`: deployments the sweeper must visit.
 * A product has few deployments, so the check
 * path reads them all with one Query (then caches them for a few seconds per container).
 * Counters live as top-level numbers on the item and only ever move by atomic ADD.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Deployment, DeploymentCounts, DeploymentState } from '../../core/model';
import { inFlightSortKey } from '../../core/rollout';
import { conditionally, queryAll } from './ddb';

export type CounterName = keyof DeploymentCounts;
const COUNTERS: readonly CounterName[] = [
  'offered',
  'downloading',
  'installing',
  'succeeded',
  'failed',
  'rolledBack',
  'timedOut',
  'downloaded',
  'inferredSucceeded',
  'inferredFailed',
];

const ROLLOUTS_PK = '@rollouts';
const inFlightPk = (deploymentId: string) => `@inflight#${deploymentId}`;

export interface InFlightOffer {
  readonly productId: string;
  readonly deploymentId: string;
  readonly deviceId: string;
  readonly offeredAt: string;
}

/** The failure policy's baseline, stored as top-level numbers (set in the same update as a resume). */
const BASELINE = [
  ['baseSucceeded', 'succeeded'],
  ['baseFailed', 'failed'],
  ['baseRolledBack', 'rolledBack'],
  ['baseTimedOut', 'timedOut'],
] as const;

function toDeployment(item: Record<string, unknown>): Deployment {
  const { pk: _pk, sk: _sk, ...rest } = item;
  const counts = Object.fromEntries(COUNTERS.map((c) => [c, Number(rest[c] ?? 0)])) as unknown as DeploymentCounts;
  for (const c of COUNTERS) delete rest[c];
  const hasBaseline = BASELINE.some(([attr]) => rest[attr] !== undefined);
  const policyBaseline = hasBaseline
    ? (Object.fromEntries(BASELINE.map(([attr, counter]) => [counter, Number(rest[attr] ?? 0)])) as Deployment['policyBaseline'])
    : undefined;
  for (const [attr] of BASELINE) delete rest[attr];
  return { ...(rest as unknown as Omit<Deployment, 'counts'>), counts, ...(policyBaseline ? { policyBaseline } : {}) };
}

export class DeploymentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(d: Deployment): Promise<void> {
    const { counts, ...rest } = d;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: d.productId, sk: d.deploymentId, ...rest, ...counts },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(productId: string, deploymentId: string, consistent = false): Promise<Deployment | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: productId, sk: deploymentId }, ConsistentRead: consistent }));
    return r.Item ? toDeployment(r.Item) : undefined;
  }

  /** Every deployment of a product (oldest first). */
  async list(productId: string): Promise<Deployment[]> {
    const items = await queryAll(this.doc, { TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': productId } });
    return items.map(toDeployment);
  }

  /**
   * Moves a deployment to `to` if it is currently in one of `from` (conditional update, so two
   * concurrent pauses cannot both "win"). Returns the new deployment, or undefined if the
   * condition did not hold.
   */
  async transition(
    productId: string,
    deploymentId: string,
    from: readonly DeploymentState[],
    to: DeploymentState,
    reason: string | undefined,
    now: string,
  ): Promise<Deployment | undefined> {
    const values: Record<string, unknown> = { ':to': to, ':now': now };
    from.forEach((s, i) => (values[`:from${i}`] = s));
    if (reason !== undefined) values[':reason'] = reason;
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: deploymentId },
          UpdateExpression: `SET #state = :to, updatedAt = :now${reason !== undefined ? ', stateReason = :reason' : ''}${
            reason === undefined ? ' REMOVE stateReason' : ''
          }`,
          ConditionExpression: `attribute_exists(pk) AND #state IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    return toDeployment(r.Attributes!);
  }

  /**
   * Raises the percentage. Never lowers it: a lower percentage would drop devices that already
   * got the build out of the cohort. Returns undefined when the deployment is finished or the
   * new percentage is lower.
   */
  async raisePercentage(productId: string, deploymentId: string, percentage: number, now: string): Promise<Deployment | undefined> {
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: deploymentId },
          UpdateExpression: 'SET percentage = :p, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND #state IN (:active, :paused) AND percentage <= :p',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':p': percentage, ':now': now, ':active': 'active', ':paused': 'paused' },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    return toDeployment(r.Attributes!);
  }

  /**
   * Records an offer — and proves the deployment is still active at this instant (the condition),
   * so a pause takes effect for offers immediately even while check containers cache config.
   * `increment` is 0 for a repeated offer to the same device (counted once). Returns false
   * when the deployment is no longer active.
   */
  async recordOffer(productId: string, deploymentId: string, increment: 0 | 1): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: productId, sk: deploymentId },
            UpdateExpression: 'ADD offered :inc',
            ConditionExpression: '#state = :active',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':inc': increment, ':active': 'active' },
          }),
        ),
      )) !== undefined
    );
  }

  /**
   * Atomically adds one to each named counter (an outcome and, when inferred, its inferred share, in
   * one write); returns the deployment after the increment.
   */
  async increment(productId: string, deploymentId: string, counter: CounterName | readonly CounterName[]): Promise<Deployment | undefined> {
    const counters = typeof counter === 'string' ? [counter] : counter;
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: deploymentId },
          UpdateExpression: `ADD ${counters.map((_, i) => `#c${i} :one`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(counters.map((c, i) => [`#c${i}`, c])),
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    return toDeployment(r.Attributes!);
  }

  /**
   * The policy's pause: active → paused with the reason, counted in `autoPauses`. Conditional on
   * `active`, so of many concurrent reports crossing the threshold exactly one pauses it.
   */
  async autoPause(productId: string, deploymentId: string, reason: string, now: string): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: productId, sk: deploymentId },
            UpdateExpression: 'SET #state = :paused, stateReason = :reason, updatedAt = :now ADD autoPauses :one',
            ConditionExpression: '#state = :active',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':paused': 'paused', ':active': 'active', ':reason': reason, ':now': now, ':one': 1 },
          }),
        ),
      )) !== undefined
    );
  }

  /**
   * paused → active, remembering the outcome counts at this moment as the failure policy's new
   * baseline (conditional on `paused`). Undefined when it was not paused.
   */
  async resume(productId: string, deploymentId: string, now: string): Promise<Deployment | undefined> {
    // One conditional update: the state change and the baseline cannot be observed apart.
    const sets = BASELINE.map(([attr, counter]) => `${attr} = if_not_exists(${counter}, :zero)`).join(', ');
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: deploymentId },
          UpdateExpression: `SET #state = :active, updatedAt = :now, ${sets} REMOVE stateReason`,
          ConditionExpression: '#state = :paused',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':active': 'active', ':paused': 'paused', ':now': now, ':zero': 0 },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    return toDeployment(r.Attributes!);
  }

  /** A scheduled canary's next step: conditional on still being active at step `fromStep`. */
  async advanceStep(
    productId: string,
    deploymentId: string,
    fromStep: number,
    toStep: number,
    percentage: number,
    now: string,
  ): Promise<Deployment | undefined> {
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: deploymentId },
          UpdateExpression: 'SET percentage = :p, #sched.currentStep = :to, #sched.stepStartedAt = :now, updatedAt = :now',
          ConditionExpression: '#state = :active AND #sched.currentStep = :from AND percentage <= :p',
          ExpressionAttributeNames: { '#state': 'state', '#sched': 'schedule' },
          ExpressionAttributeValues: { ':p': percentage, ':to': toStep, ':from': fromStep, ':now': now, ':active': 'active' },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    return toDeployment(r.Attributes!);
  }

  /** Indexes an offer until it finishes (only deployments with an in-progress timeout need it). */
  async addInFlight(o: InFlightOffer): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: inFlightPk(o.deploymentId), sk: inFlightSortKey(o.offeredAt, o.deviceId), ...o } }),
    );
  }

  /** Removes an in-flight offer; true only for the caller that removed it (finish vs. timeout race). */
  async removeInFlight(deploymentId: string, offeredAt: string, deviceId: string): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { pk: inFlightPk(deploymentId), sk: inFlightSortKey(offeredAt, deviceId) },
            ConditionExpression: 'attribute_exists(pk)',
          }),
        ),
      )) !== undefined
    );
  }

  /** In-flight offers made before `cutoff` (ISO time), oldest first: one Query, no scan. */
  async overdueInFlight(deploymentId: string, cutoff: string, limit = 500): Promise<InFlightOffer[]> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk < :cut',
        ExpressionAttributeValues: { ':pk': inFlightPk(deploymentId), ':cut': cutoff },
        Limit: limit,
      }),
    );
    return (r.Items ?? []).map(
      (i) => ({ productId: i.productId, deploymentId: i.deploymentId, deviceId: i.deviceId, offeredAt: i.offeredAt }) as InFlightOffer,
    );
  }

  /** Puts a deployment on the sweeper's list (schedules, timeouts). */
  async watch(productId: string, deploymentId: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: ROLLOUTS_PK, sk: `${productId}#${deploymentId}`, productId, deploymentId } }));
  }

  async unwatch(productId: string, deploymentId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: ROLLOUTS_PK, sk: `${productId}#${deploymentId}` } }));
  }

  /** Deployments the sweeper visits. */
  async watched(): Promise<{ productId: string; deploymentId: string }[]> {
    const items = await queryAll(this.doc, { TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': ROLLOUTS_PK } });
    return items.map((i) => ({ productId: i.productId as string, deploymentId: i.deploymentId as string }));
  }
}
