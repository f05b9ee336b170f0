/**
 * The DynamoDB document client, created once per container (module scope) and shared by every
 * handler. Locally the platform points it at dynalite through OTA_DYNAMODB_ENDPOINT.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsRegion, ENV } from './env';

export function createDocumentClient(endpoint = process.env[ENV.DYNAMODB_ENDPOINT]): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    region: awsRegion(),
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 3,
  });
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

let ddb: DynamoDBDocumentClient | undefined;
/** The container's shared DynamoDB document client. */
export const documentClient = (): DynamoDBDocumentClient => (ddb ??= createDocumentClient());
