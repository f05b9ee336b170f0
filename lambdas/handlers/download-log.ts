/**
 * download-log — CloudFront standard log files (S3 ObjectCreated on the log bucket's prefix,
 * async): each file's firmware downloads become evidence on the devices' open offers (see
 * download-log-service.ts). A fault throws, so Lambda retries the event; recording is idempotent.
 */
import type { S3Event } from 'aws-lambda';
import { requireEnv } from '../shared/config';
import { DownloadLogService } from '../shared/download-log-service';
import { downloadService } from '../shared/download-service';
import { ENV } from '../shared/env';
import { createLogger } from '../shared/logger';
import { flushMetrics } from '../shared/metrics';
import { s3Client } from '../shared/s3';
import { decodeS3Key } from '../shared/s3-key';

const logger = createLogger('download-log');
const logs = new DownloadLogService({
  s3: s3Client(),
  sink: downloadService(),
  bucket: requireEnv(ENV.CDN_LOG_BUCKET),
  prefix: process.env[ENV.CDN_LOG_PREFIX] ?? '',
  logger,
});

export const handler = async (event: S3Event): Promise<void> => {
  try {
    for (const record of event.Records ?? []) {
      const key = decodeS3Key(record.s3.object.key);
      if (key === undefined) {
        logger.warn('ignoring an event whose key is not URL-encoded', { key: record.s3.object.key });
        continue;
      }
      logger.resetKeys();
      logger.appendKeys({ logKey: key, sequencer: record.s3.object.sequencer });
      const summary = await logs.processFile(record.s3.bucket.name, key);
      logger.info('log file', { ...summary });
    }
  } finally {
    flushMetrics();
  }
};
