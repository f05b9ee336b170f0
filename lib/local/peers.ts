/**
 * The embedded AWS peers: dynalite (DynamoDB) and s3rver (S3), real HTTP servers on loopback.
 * Tables are created from the same key schemas the CDK stack uses.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TABLES, type TableSpec } from '../../lambdas/shared/table-schema';

// Neither peer ships type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (opts: Record<string, unknown>) => Server = require('dynalite');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: new (opts: Record<string, unknown>) => S3rverInstance = require('s3rver');

export interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: unknown) => void): void;
}

/** Local table names, by the env var each function reads. */
export const LOCAL_TABLE_NAMES: Record<TableSpec['envVar'], string> = {
  FIRMWARE_TABLE: 'ota-firmware',
  DEPLOYMENTS_TABLE: 'ota-deployments',
  DEVICES_TABLE: 'ota-devices',
};
export const LOCAL_BUCKETS = { ingest: 'ota-ingest', firmware: 'ota-firmware' } as const;

export interface Peers {
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly s3rver: S3rverInstance;
  stop(): Promise<void>;
}

async function createTables(endpoint: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    for (const spec of TABLES) {
      const TableName = LOCAL_TABLE_NAMES[spec.envVar];
      try {
        await client.send(new DescribeTableCommand({ TableName }));
        continue; // persisted from an earlier run
      } catch (e) {
        if (!(e instanceof ResourceNotFoundException)) throw e;
      }
      const attrs = new Map<string, string>();
      const add = (k?: { name: string; type: string }) => k && attrs.set(k.name, k.type);
      add(spec.partitionKey);
      add(spec.sortKey);
      spec.indexes.forEach((i) => (add(i.partitionKey), add(i.sortKey)));
      const keySchema = (pk: { name: string }, sk?: { name: string }) => [
        { AttributeName: pk.name, KeyType: 'HASH' as const },
        ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
      ];
      await client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType: AttributeType as 'S' | 'N' })),
          KeySchema: keySchema(spec.partitionKey, spec.sortKey),
          ...(spec.indexes.length
            ? {
                GlobalSecondaryIndexes: spec.indexes.map((i) => ({
                  IndexName: i.indexName,
                  KeySchema: keySchema(i.partitionKey, i.sortKey),
                  Projection: { ProjectionType: 'ALL' as const },
                })),
              }
            : {}),
        }),
      );
    }
    for (const spec of TABLES) {
      const TableName = LOCAL_TABLE_NAMES[spec.envVar];
      for (let i = 0; i < 100; i++) {
        const t = await client.send(new DescribeTableCommand({ TableName }));
        if (t.Table?.TableStatus === 'ACTIVE') break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  } finally {
    client.destroy();
  }
}

export interface PeerOptions {
  /** Persist under this folder; omitted → in memory (S3 in a temp folder removed on stop). */
  readonly dataDir?: string;
  readonly host: string;
  readonly s3Port: number;
  readonly dynamodbPort?: number;
}

export async function startPeers(opts: PeerOptions): Promise<Peers> {
  const dynamoPath = opts.dataDir ? join(opts.dataDir, 'dynamodb') : undefined;
  if (dynamoPath) mkdirSync(dynamoPath, { recursive: true });
  const ddb = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dynamoPath ? { path: dynamoPath } : {}) });
  await new Promise<void>((resolve, reject) => {
    ddb.once('error', reject);
    ddb.listen(opts.dynamodbPort ?? 0, '127.0.0.1', () => resolve());
  });
  const dynamodbEndpoint = `http://127.0.0.1:${(ddb.address() as AddressInfo).port}`;

  const s3Dir = opts.dataDir ? join(opts.dataDir, 's3') : mkdtempSync(join(tmpdir(), 'ota-s3-'));
  mkdirSync(s3Dir, { recursive: true });
  const s3rver = new S3rver({
    address: opts.host,
    port: opts.s3Port,
    directory: s3Dir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: LOCAL_BUCKETS.ingest }, { name: LOCAL_BUCKETS.firmware }],
  });
  let s3Address: AddressInfo;
  try {
    await createTables(dynamodbEndpoint);
    s3Address = await s3rver.run();
  } catch (e) {
    await new Promise((r) => ddb.close(() => r(undefined)));
    throw e;
  }
  const s3Host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    dynamodbEndpoint,
    s3Endpoint: `http://${s3Host}:${s3Address.port}`,
    s3rver,
    async stop() {
      await s3rver.close();
      await new Promise((r) => ddb.close(() => r(undefined)));
      if (!opts.dataDir) rmSync(s3Dir, { recursive: true, force: true });
    },
  };
}
