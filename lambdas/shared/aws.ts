/**
 * The DynamoDB document client, created once per container (module scope) and shared by every
 * handler. Locally the platform points it at dynalite through OTA_DYNAMODB_ENDPOINT.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsRegion, ENV } from './env';
import { clientTimeouts, DYNAMODB_BUDGET } from './timeouts';

export function createDocumentClient(endpoint = process.env[ENV.DYNAMODB_ENDPOINT]): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    region: awsRegion(),
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    // A hung or slow table must end in our 503 + Retry-After well inside the function timeout (timeouts.ts).
    ...clientTimeouts(DYNAMODB_BUDGET),
  });
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

let ddb: DynamoDBDocumentClient | undefined;
/** The container's shared DynamoDB document client. */
export const documentClient = (): DynamoDBDocumentClient => (ddb ??= createDocumentClient());
