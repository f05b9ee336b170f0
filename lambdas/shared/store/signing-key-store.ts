/**
 * A product's trusted signing keys, in the firmware table beside the product:
 *   pk = productId, sk `KEY#<keyId>`   one public key (active or revoked; a revoked key stays, so
 *                                       builds verified by it keep their history and it cannot come back)
 * and `activeSigningKeys` on the `#PRODUCT` item: the active count, so "at most three active" (as
 * many key digests as Secure Boot v2 eFuses hold) holds under concurrent adds — the count is
 * raised conditionally before the key is written.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SigningKey } from '../../core/model';
import { conditionally, queryAll, stripKeys } from './ddb';

const PRODUCT_SK = '#PRODUCT';
const keySk = (keyId: string): string => `KEY#${keyId}`;

export type AddKeyOutcome =
  { readonly outcome: 'added'; readonly key: SigningKey } | { readonly outcome: 'exists'; readonly key: SigningKey } | { readonly outcome: 'full' };

export class SigningKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(productId: string, keyId: string): Promise<SigningKey | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: productId, sk: keySk(keyId) }, ConsistentRead: true }));
    return r.Item ? stripKeys<SigningKey>(r.Item) : undefined;
  }

  /** Every key of the product, active and revoked, in key id order. */
  async list(productId: string): Promise<SigningKey[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :key)',
      ExpressionAttributeValues: { ':pk': productId, ':key': 'KEY#' },
      ConsistentRead: true,
    });
    return items.map((i) => stripKeys<SigningKey>(i));
  }

  /**
   * Registers an active key. `exists`: a key with this id is already registered (as it is: active
   * or revoked); `full`: the product already trusts `maxActive` keys. Throws (ConditionalCheckFailed)
   * when the product does not exist.
   */
  async add(key: SigningKey, maxActive: number): Promise<AddKeyOutcome> {
    const existing = await this.get(key.productId, key.keyId);
    if (existing) return { outcome: 'exists', key: existing };
    if (!(await this.reserveSlot(key.productId, maxActive))) {
      // The count may have drifted up (a crash between reserve and put): recount once, repair, retry.
      const active = (await this.list(key.productId)).filter((k) => k.state === 'active').length;
      if (active >= maxActive || !(await this.repairCount(key.productId, active)) || !(await this.reserveSlot(key.productId, maxActive))) {
        return { outcome: 'full' };
      }
    }
    const put = await conditionally(() =>
      this.doc.send(
        new PutCommand({ TableName: this.table, Item: { pk: key.productId, sk: keySk(key.keyId), ...key }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
    if (put) return { outcome: 'added', key };
    // A concurrent add of the same key won: give the slot back.
    await this.releaseSlot(key.productId);
    return { outcome: 'exists', key: (await this.get(key.productId, key.keyId))! };
  }

  /** active → revoked; undefined when the key does not exist or is already revoked. */
  async revoke(productId: string, keyId: string, now: string): Promise<SigningKey | undefined> {
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: keySk(keyId) },
          UpdateExpression: 'SET #state = :revoked, revokedAt = :now',
          ConditionExpression: '#state = :active',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':revoked': 'revoked', ':active': 'active', ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!r) return undefined;
    await this.releaseSlot(productId);
    return stripKeys<SigningKey>(r.Attributes!);
  }

  private async reserveSlot(productId: string, maxActive: number): Promise<boolean> {
    const r = await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: PRODUCT_SK },
          UpdateExpression: 'SET activeSigningKeys = if_not_exists(activeSigningKeys, :zero) + :one',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(activeSigningKeys) OR activeSigningKeys < :max)',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':max': maxActive },
        }),
      ),
    );
    if (r) return true;
    const product = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: productId, sk: PRODUCT_SK }, ConsistentRead: true }));
    if (!product.Item) throw Object.assign(new Error(`Product ${productId} does not exist`), { name: 'ConditionalCheckFailedException' });
    return false;
  }

  private async releaseSlot(productId: string): Promise<void> {
    await conditionally(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: productId, sk: PRODUCT_SK },
          UpdateExpression: 'SET activeSigningKeys = activeSigningKeys - :one',
          ConditionExpression: 'activeSigningKeys > :zero',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
        }),
      ),
    );
  }

  private async repairCount(productId: string, active: number): Promise<boolean> {
    return (
      (await conditionally(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: productId, sk: PRODUCT_SK },
            UpdateExpression: 'SET activeSigningKeys = :n',
            ConditionExpression: 'activeSigningKeys > :n',
            ExpressionAttributeValues: { ':n': active },
          }),
        ),
      )) !== undefined
    );
  }
}
