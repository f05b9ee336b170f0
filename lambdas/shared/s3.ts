/**
 * The S3 client, created once per container. Separate from the DynamoDB client module so that
 * functions that never touch S3 do not bundle the S3 SDK (bundle size is cold start).
 * Locally the platform points it at s3rver through OTA_S3_ENDPOINT.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { awsRegion, ENV } from './env';

export function createS3Client(endpoint = process.env[ENV.S3_ENDPOINT]): S3Client {
  return new S3Client({
    region: awsRegion(),
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

let s3: S3Client | undefined;
/** The container's shared S3 client. */
export const s3Client = (): S3Client => (s3 ??= createS3Client());
