/**
 * The S3 client, created once per container. Separate from the DynamoDB client module so that
 * functions that never touch S3 do not bundle the S3 SDK (bundle size is cold start).
 * Locally the platform points it at s3rver through OTA_S3_ENDPOINT.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { awsRegion, ENV } from './env';
import { clientTimeouts, S3_BUDGET } from './timeouts';

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The local S3's credentials, as the local platform hands them to its functions (env). */
export function localS3Credentials(env: NodeJS.ProcessEnv = process.env): StaticCredentials | undefined {
  const accessKeyId = env[ENV.S3_ACCESS_KEY_ID];
  const secretAccessKey = env[ENV.S3_SECRET_ACCESS_KEY];
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}

/**
 * `endpoint` set: the local S3 (path style, no flexible checksums), signed with `credentials`,
 * else those in the environment; without either, s3rver's stock key (a bare s3rver, not the
 * platform's, which refuses it).
 */
export function createS3Client(endpoint = process.env[ENV.S3_ENDPOINT], credentials?: StaticCredentials): S3Client {
  return new S3Client({
    region: awsRegion(),
    ...clientTimeouts(S3_BUDGET),
    ...(endpoint
      ? {
          endpoint,
          forcePathStyle: true,
          credentials: credentials ?? localS3Credentials() ?? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

let s3: S3Client | undefined;
/** The container's shared S3 client. */
export const s3Client = (): S3Client => (s3 ??= createS3Client());
