/**
 * upload — everything that brings firmware in.
 * - S3 events from the ingest bucket (async): `manifest.json` starts an ingest; a `.bin`/`.ufw`
 *   re-evaluates its folder's manifest when that is waiting for files. Every run ends in a
 *   result.json verdict; unexpected faults are recorded as `error` and thrown so Lambda retries
 *   and the DLQ keeps what still fails;
 * - IoTaaP's HTTP firmware upload, which writes into the same ingest bucket and waits for the verdict.
 */
import type { S3Event } from 'aws-lambda';
import type { OperationsOf } from '../contract';
import { newAssignmentId } from '../core/deployment';
import { offeredBuild, type Device, type Firmware } from '../core/model';
import { iotaapUploadFirmware } from '../protocols/iotaap/contract';
import { iotaapUploadRoutes } from '../protocols/iotaap/upload-adapter';
import { requireEnv } from '../shared/config';
import { numberEnv } from '../shared/config';
import { ENV } from '../shared/env';
import type { HttpEvent } from '../shared/http';
import { DEFAULT_UPLOAD_WINDOW_MS, IngestService, INGEST_TRIGGER_SUFFIXES, MANIFEST_NAME } from '../shared/ingest-service';
import { createLogger } from '../shared/logger';
import { flushMetrics } from '../shared/metrics';
import { operationsHandler, routeKeysOf, servedOperations, type Implementations } from '../shared/operations';
import { platformSignerFromEnv } from '../shared/platform-signer';
import { s3Client } from '../shared/s3';
import { decodeS3Key } from '../shared/s3-key';
import { catalogStore, deviceStore, signingKeyStore } from '../shared/wiring';

const logger = createLogger('upload');
const ingestBucket = requireEnv(ENV.INGEST_BUCKET);
const devices = deviceStore();

/** Assigns an accepted build to each named, existing device (replacing an open assignment of another build). */
async function assign(fw: Firmware, deviceIds: readonly string[]): Promise<string[]> {
  const done: string[] = [];
  const now = new Date().toISOString();
  for (const deviceId of deviceIds) {
    const assignment = {
      assignmentId: newAssignmentId(),
      build: fw.build,
      state: 'pending' as const,
      firmware: offeredBuild(fw),
      assignedAt: now,
      updatedAt: now,
    };
    const existing: Device | undefined = await devices.get(fw.productId, deviceId, true);
    if (!existing) continue;
    // The same build already open (a duplicated event): keep it, do not reset delivery state.
    if (existing.assignment && existing.assignment.build === fw.build && ['pending', 'delivered'].includes(existing.assignment.state)) {
      done.push(deviceId);
      continue;
    }
    if ((await devices.assign(fw.productId, deviceId, assignment, true)) === 'assigned') done.push(deviceId);
  }
  return done;
}

const ingest = new IngestService({
  s3: s3Client(),
  catalog: catalogStore(),
  ingestBucket,
  firmwareBucket: requireEnv(ENV.FIRMWARE_BUCKET),
  logger,
  assign,
  uploadWindowMs: numberEnv(ENV.INGEST_UPLOAD_WINDOW_SECONDS, DEFAULT_UPLOAD_WINDOW_MS / 1000) * 1000,
  keys: signingKeyStore(),
  platformSigner: platformSignerFromEnv(),
});

async function onS3Event(event: S3Event): Promise<void> {
  try {
    await ingestRecords(event);
  } finally {
    flushMetrics();
  }
}

async function ingestRecords(event: S3Event): Promise<void> {
  for (const record of event.Records ?? []) {
    const key = decodeS3Key(record.s3.object.key);
    if (key === undefined) {
      logger.warn('ignoring an event whose key is not URL-encoded', { key: record.s3.object.key });
      continue;
    }
    if (record.s3.bucket.name !== ingestBucket || !INGEST_TRIGGER_SUFFIXES.some((s) => key.endsWith(s))) continue;
    logger.resetKeys();
    logger.appendKeys({ objectKey: key, sequencer: record.s3.object.sequencer });
    if (key === MANIFEST_NAME || key.endsWith(`/${MANIFEST_NAME}`)) await ingest.ingest(key, record.s3.object.versionId || undefined);
    else await ingest.fileArrived(key);
  }
}

const OPERATIONS = servedOperations('upload', [iotaapUploadFirmware]);
const implementations: Implementations<OperationsOf<'upload'>> = iotaapUploadRoutes({ s3: s3Client(), ingestBucket, devices, logger });
const onHttp = operationsHandler(logger, OPERATIONS, implementations, { flush: flushMetrics });

const isS3Event = (e: unknown): e is S3Event => Array.isArray((e as S3Event)?.Records);

export const handler = async (event: S3Event | HttpEvent, context: import('aws-lambda').Context) =>
  isS3Event(event) ? onS3Event(event) : onHttp(event, context);

export const UPLOAD_ROUTE_KEYS = routeKeysOf(OPERATIONS);
