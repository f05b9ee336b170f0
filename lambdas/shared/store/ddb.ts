/** Small DynamoDB helpers shared by the stores. */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
export const isConditionalCheckFailed = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { name?: string }).name === 'ConditionalCheckFailedException';

/**
 * A conditional write: its result, or undefined when DynamoDB refused the condition (the state
 * moved under us — the caller decides what that means). Every other error is thrown.
 */
export async function conditionally<T>(write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await write();
  } catch (e) {
    if (isConditionalCheckFailed(e)) return undefined;
    throw e;
  }
}

/** Removes the storage-only attributes from an item before it becomes a domain object. */
export function stripKeys<T>(item: Record<string, unknown>, ...extra: string[]): T {
  const out: Record<string, unknown> = { ...item };
  for (const k of ['pk', 'sk', ...extra]) delete out[k];
  return out as T;
}

/** DynamoDB sets come back as JS Sets; the domain uses sorted arrays. */
export const numberSetToArray = (v: unknown): number[] => (v instanceof Set ? [...v].map(Number).sort((a, b) => a - b) : Array.isArray(v) ? v.map(Number) : []);

/** Opaque pagination cursor (base64url of LastEvaluatedKey). */
export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Every item a Query matches, following LastEvaluatedKey across pages (bounded partitions only). */
export async function queryAll(doc: DynamoDBDocumentClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return items;
}

export interface Page<T> {
  readonly items: T[];
  readonly cursor?: string;
}
