/**
 * The embedded AWS peers: dynalite (DynamoDB) and s3rver (S3), real HTTP servers on loopback
 * only, whatever address the device API binds (devices never talk to them). s3rver itself sits on
 * an internal port behind a front that verifies SigV4 against the local credentials (s3-auth.ts).
 * Tables are created from the same key schemas the CDK stack uses.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type TableSpec } from '../../lambdas/shared/table-schema';
import { startS3Front, type S3Credentials } from './s3-auth';

// s3rver ships no type declarations.
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
  /** The verifying front (loopback); requests must be signed with `s3Credentials`. */
  readonly s3Endpoint: string;
  readonly s3Credentials: S3Credentials;
  readonly s3rver: S3rverInstance;
  stop(): Promise<void>;
}

async function createTables(endpoint: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    for (const spec of TABLES) {
      const TableName = LOCAL_TABLE_NAMES[spec.envVar];
      const attrs = new Map<string, string>();
      const add = (k?: { name: string; type: string }) => k && attrs.set(k.name, k.type);
      add(spec.partitionKey);
      add(spec.sortKey);
      spec.indexes.forEach((i) => (add(i.partitionKey), add(i.sortKey)));
      const keySchema = (pk: { name: string }, sk?: { name: string }) => [
        { AttributeName: pk.name, KeyType: 'HASH' as const },
        ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
      ];
      let existing;
      try {
        existing = (await client.send(new DescribeTableCommand({ TableName }))).Table;
      } catch (e) {
        if (!(e instanceof ResourceNotFoundException)) throw e;
      }
      let carried: Record<string, AttributeValue>[] = [];
      if (existing) {
        const have = new Set((existing.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
        if (spec.indexes.every((i) => have.has(i.indexName))) continue; // persisted from an earlier run
        // A data dir from before an index existed. dynalite cannot add an index to a table, so the
        // table is rebuilt with its items (local data, small).
        carried = await scanAll(client, TableName);
        await client.send(new DeleteTableCommand({ TableName }));
        for (let i = 0; i < 100; i++) {
          try {
            await client.send(new DescribeTableCommand({ TableName }));
            await new Promise((r) => setTimeout(r, 20));
          } catch (e) {
            if (e instanceof ResourceNotFoundException) break;
            throw e;
          }
        }
      }
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
      if (carried.length) {
        await waitActive(client, spec);
        for (const Item of carried) await client.send(new PutItemCommand({ TableName, Item }));
      }
    }
    for (const spec of TABLES) await waitActive(client, spec);
  } finally {
    client.destroy();
  }
}

async function scanAll(client: DynamoDBClient, TableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const r = await client.send(new ScanCommand({ TableName, ExclusiveStartKey }));
    items.push(...(r.Items ?? []));
    ExclusiveStartKey = r.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

async function waitActive(client: DynamoDBClient, spec: TableSpec): Promise<void> {
  const TableName = LOCAL_TABLE_NAMES[spec.envVar];
  for (let i = 0; i < 100; i++) {
    const t = await client.send(new DescribeTableCommand({ TableName }));
    const gsis = t.Table?.GlobalSecondaryIndexes ?? [];
    const ready = spec.indexes.every((x) => gsis.some((g) => g.IndexName === x.indexName && g.IndexStatus === 'ACTIVE'));
    if (t.Table?.TableStatus === 'ACTIVE' && ready) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * dynalite runs in a worker thread: it is a CPU-heavy HTTP server (expression parsing, LevelDB
 * encoding), and on its own thread it stops competing with the handlers for the event loop —
 * a local check gets markedly faster. The worker is plain JavaScript that requires dynalite from
 * node_modules, so it works the same from jest, a bundle, or tsx.
 */
const DYNALITE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.module);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(workerData.path ? { path: workerData.path } : {}) });
server.on('error', (e) => parentPort.postMessage({ error: String(e && e.message || e) }));
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => { if (m === 'close') server.close(() => parentPort.postMessage({ closed: true })); });
`;

async function startDynalite(path: string | undefined, port: number): Promise<{ endpoint: string; close(): Promise<void> }> {
  const worker = new Worker(DYNALITE_WORKER, { eval: true, workerData: { module: require.resolve('dynalite'), path, port } });
  const first = await new Promise<{ port?: number; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  if (first.error || !first.port) {
    await worker.terminate();
    throw new Error(`dynalite did not start: ${first.error}`);
  }
  return {
    endpoint: `http://127.0.0.1:${first.port}`,
    async close() {
      // Let dynalite close LevelDB cleanly (persisted data dirs), then end the thread.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        worker.once('message', () => (clearTimeout(timer), resolve()));
        worker.postMessage('close');
      });
      await worker.terminate();
    },
  };
}

export interface PeerOptions {
  /** Persist under this folder; omitted → in memory (S3 in a temp folder removed on stop). */
  readonly dataDir?: string;
  /** Port of the S3 front on 127.0.0.1 (0: any). */
  readonly s3Port: number;
  /** The only credentials the local S3 accepts. */
  readonly s3Credentials: S3Credentials;
  readonly dynamodbPort?: number;
}

export async function startPeers(opts: PeerOptions): Promise<Peers> {
  const dynamoPath = opts.dataDir ? join(opts.dataDir, 'dynamodb') : undefined;
  if (dynamoPath) mkdirSync(dynamoPath, { recursive: true });
  const ddb = await startDynalite(dynamoPath, opts.dynamodbPort ?? 0);
  const dynamodbEndpoint = ddb.endpoint;

  const s3Dir = opts.dataDir ? join(opts.dataDir, 's3') : mkdtempSync(join(tmpdir(), 'ota-s3-'));
  mkdirSync(s3Dir, { recursive: true });
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: s3Dir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: LOCAL_BUCKETS.ingest }, { name: LOCAL_BUCKETS.firmware }],
  });
  let front;
  try {
    await createTables(dynamodbEndpoint);
    const internal = await s3rver.run();
    front = await startS3Front({ host: '127.0.0.1', port: opts.s3Port, upstreamPort: internal.port, credentials: opts.s3Credentials }).catch(async (e) => {
      await s3rver.close();
      throw e;
    });
  } catch (e) {
    await ddb.close();
    throw e;
  }
  const s3Front = front;
  return {
    dynamodbEndpoint,
    s3Endpoint: `http://127.0.0.1:${s3Front.port}`,
    s3Credentials: opts.s3Credentials,
    s3rver,
    async stop() {
      await s3Front.close();
      await s3rver.close();
      await ddb.close();
      if (!opts.dataDir) rmSync(s3Dir, { recursive: true, force: true });
    },
  };
}
