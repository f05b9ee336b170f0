/**
 * AWS SDK clients, created once per container (module scope) and shared by every handler.
 * Locally the platform points them at dynalite / s3rver through OTA_* endpoint variables.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from './env';

const region = () => process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';

export function createDocumentClient(endpoint = process.env[ENV.DYNAMODB_ENDPOINT]): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    region: region(),
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 3,
  });
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

export function createS3Client(endpoint = process.env[ENV.S3_ENDPOINT]): S3Client {
  return new S3Client({
    region: region(),
    ...(endpoint
      ? {
          endpoint,
          // s3rver: path-style only, accepts any SigV4 from key S3RVER, no flexible checksums.
          forcePathStyle: true,
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

let ddb: DynamoDBDocumentClient | undefined;
let s3: S3Client | undefined;
/** The container's shared DynamoDB document client. */
export const documentClient = (): DynamoDBDocumentClient => (ddb ??= createDocumentClient());
/** The container's shared S3 client. */
export const s3Client = (): S3Client => (s3 ??= createS3Client());
