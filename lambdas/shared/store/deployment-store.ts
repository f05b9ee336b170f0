/**
 * Deployments, pk = productId, sk = deploymentId. A product has few deployments, so the check
 * path reads them all with one Query (then caches them for a few seconds per container).
 * Counters live as top-level numbers on the item and only ever move by atomic ADD.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Deployment, DeploymentCounts, DeploymentState } from '../../core/model';
import { isConditionalCheckFailed } from './ddb';

export type CounterName = keyof DeploymentCounts;
const COUNTERS: readonly CounterName[] = ['offered', 'downloading', 'installing', 'succeeded', 'failed', 'rolledBack'];

function toDeployment(item: Record<string, unknown>): Deployment {
  const { pk: _pk, sk: _sk, ...rest } = item;
  const counts = Object.fromEntries(COUNTERS.map((c) => [c, Number(rest[c] ?? 0)])) as unknown as DeploymentCounts;
  for (const c of COUNTERS) delete rest[c];
  return { ...(rest as unknown as Omit<Deployment, 'counts'>), counts };
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
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: productId, sk: deploymentId }, ConsistentRead: consistent }),
    );
    return r.Item ? toDeployment(r.Item) : undefined;
  }

  /** Every deployment of a product (oldest first). */
  async list(productId: string): Promise<Deployment[]> {
    const out: Deployment[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': productId },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(r.Items ?? []).map(toDeployment));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
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
    try {
      const r = await this.doc.send(
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
      );
      return toDeployment(r.Attributes!);
    } catch (e) {
      if (isConditionalCheckFailed(e)) return undefined;
      throw e;
    }
  }

  /**
   * Raises the percentage. Never lowers it: a lower percentage would drop devices that already
   * got the build out of the cohort. Returns undefined when the deployment is finished or the
   * new percentage is lower.
   */
  async raisePercentage(productId: string, deploymentId: string, percentage: number, now: string): Promise<Deployment | undefined> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: deploymentId },
          UpdateExpression: 'SET percentage = :p, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND #state IN (:active, :paused) AND percentage <= :p',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':p': percentage, ':now': now, ':active': 'active', ':paused': 'paused' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toDeployment(r.Attributes!);
    } catch (e) {
      if (isConditionalCheckFailed(e)) return undefined;
      throw e;
    }
  }

  /**
   * Records an offer — and proves the deployment is still active at this instant (the condition),
   * so a pause takes effect for offers immediately even while check containers cache config.
   * `increment` is 0 for a repeated offer to the same device (counted once). Returns false
   * when the deployment is no longer active.
   */
  async recordOffer(productId: string, deploymentId: string, increment: 0 | 1): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: deploymentId },
          UpdateExpression: 'ADD offered :inc',
          ConditionExpression: '#state = :active',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':inc': increment, ':active': 'active' },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return false;
      throw e;
    }
  }

  /** Atomically adds one to an outcome counter; returns the deployment after the increment. */
  async increment(productId: string, deploymentId: string, counter: CounterName): Promise<Deployment | undefined> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: deploymentId },
          UpdateExpression: 'ADD #c :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#c': counter },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toDeployment(r.Attributes!);
    } catch (e) {
      if (isConditionalCheckFailed(e)) return undefined;
      throw e;
    }
  }
}
