/**
 * upload — triggered by `manifest.json` objects landing in the ingest bucket (S3 → Lambda,
 * async). Rejections are final and recorded in result.json; infrastructure faults throw so
 * Lambda retries, and the dead-letter queue keeps what still fails.
 */
import type { S3Event } from 'aws-lambda';
import { s3Client } from '../shared/s3';
import { requireEnv } from '../shared/config';
import { ENV } from '../shared/env';
import { IngestService, MANIFEST_NAME } from '../shared/ingest-service';
import { createLogger } from '../shared/logger';
import { catalogStore } from '../shared/wiring';

const logger = createLogger('upload');
const ingestBucket = requireEnv(ENV.INGEST_BUCKET);
const ingest = new IngestService({
  s3: s3Client(),
  catalog: catalogStore(),
  ingestBucket,
  firmwareBucket: requireEnv(ENV.FIRMWARE_BUCKET),
  logger,
});

/** S3 event keys are URL-encoded with `+` for spaces. */
export const decodeS3Key = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

export const handler = async (event: S3Event): Promise<void> => {
  for (const record of event.Records ?? []) {
    const key = decodeS3Key(record.s3.object.key);
    if (record.s3.bucket.name !== ingestBucket || !key.endsWith(MANIFEST_NAME)) continue;
    logger.resetKeys();
    logger.appendKeys({ manifestKey: key, sequencer: record.s3.object.sequencer });
    await ingest.ingest(key, record.s3.object.versionId || undefined);
  }
};
