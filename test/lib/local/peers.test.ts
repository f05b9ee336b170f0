/**
 * The embedded peers persist under a data dir; a data dir from an older version gains the
 * indexes added since (dynalite cannot add one, so the table is rebuilt with its items).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { generateS3Credentials } from '../../../lib/local/keys';
import { LOCAL_TABLE_NAMES, startPeers } from '../../../lib/local/peers';
const dynalite: (opts: Record<string, unknown>) => Server = require('dynalite');

const dir = mkdtempSync(join(tmpdir(), 'ota-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const client = (endpoint: string) => new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

it('adds indexes missing from a persisted table', async () => {
  // A data dir written before byGlobalId existed: the devices table with byProduct only.
  mkdirSync(join(dir, 'dynamodb'), { recursive: true });
  const old = dynalite({ path: join(dir, 'dynamodb'), createTableMs: 0 });
  await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', () => resolve()));
  const c = client(`http://127.0.0.1:${(old.address() as AddressInfo).port}`);
  await c.send(
    new CreateTableCommand({
      TableName: LOCAL_TABLE_NAMES.DEVICES_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'productId', AttributeType: 'S' },
        { AttributeName: 'deviceId', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byProduct',
          KeySchema: [
            { AttributeName: 'productId', KeyType: 'HASH' },
            { AttributeName: 'deviceId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await c.send(new PutItemCommand({ TableName: LOCAL_TABLE_NAMES.DEVICES_TABLE, Item: { pk: { S: 'p#d1' }, productId: { S: 'p' }, deviceId: { S: 'd1' } } }));
  c.destroy();
  await new Promise<void>((resolve) => old.close(() => resolve()));

  const peers = await startPeers({ dataDir: dir, s3Port: 0, s3Credentials: generateS3Credentials() });
  const d = client(peers.dynamodbEndpoint);
  try {
    const t = await d.send(new DescribeTableCommand({ TableName: LOCAL_TABLE_NAMES.DEVICES_TABLE }));
    expect((t.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName).sort()).toEqual(['byGlobalId', 'byProduct']);
    // Its items survive the rebuild.
    const item = await d.send(new GetItemCommand({ TableName: LOCAL_TABLE_NAMES.DEVICES_TABLE, Key: { pk: { S: 'p#d1' } } }));
    expect(item.Item?.deviceId).toEqual({ S: 'd1' });
  } finally {
    d.destroy();
    await peers.stop();
  }
});
