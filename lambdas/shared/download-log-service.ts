/**
 * Reads one CloudFront standard log file from S3 (gzip, as CloudFront delivers it), parses it and
 * hands the firmware downloads it saw to the download sink. The cloud counterpart of the local
 * edge's per-response report; minutes late, which is fine (see download-service.ts).
 *
 * Failure model (S3 invokes the function asynchronously, so a throw means a retry):
 * - infrastructure faults (S3 read, DynamoDB writes) throw: the file is read again, and the
 *   downloads already recorded are not counted twice (the offer is marked once, conditionally);
 * - a file that can never be read (not gzip, too large, gone) is logged and skipped — retrying
 *   it would fail the same way forever; unreadable lines inside a readable file are skipped too.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MAX_LOG_LINES, parseCdnLog } from '../core/cdn-log';
import type { DownloadSink, ServedDownload } from '../core/download';
import type { Logger } from './logger';

const gunzipAsync = promisify(gunzip);

/** Largest log file read, decompressed. CloudFront splits busy hours into many small files. */
export const MAX_LOG_BYTES = 128 * 1024 * 1024;
/** Downloads handed to the sink per call (each whole download is one conditional write or two). */
export const RECORD_BATCH = 25;

export interface DownloadLogServiceDeps {
  readonly s3: S3Client;
  readonly sink: DownloadSink;
  readonly bucket: string;
  /** Only keys under this prefix are log files (`''` for the whole bucket). */
  readonly prefix: string;
  readonly logger: Logger;
}

export interface LogFileSummary {
  readonly key: string;
  /** Firmware downloads in the file (attributed or not). */
  readonly downloads: number;
  /** Of those, the ones handed to the sink (app images naming a device, possibly whole). */
  readonly recorded: number;
  readonly malformed: number;
  readonly truncated: boolean;
  /** Why the file was skipped whole, if it was. */
  readonly skipped?: 'not-a-log-key' | 'gone' | 'unreadable';
}

/** Only downloads that can be evidence, once each (a device often fetches the same image twice). */
function evidence(downloads: readonly ServedDownload[]): ServedDownload[] {
  const seen = new Set<string>();
  const out: ServedDownload[] = [];
  for (const d of downloads) {
    if (d.role !== 'app' || !d.deviceId || (!d.complete && d.rangeEnd === undefined)) continue;
    const key = [d.productId, d.deviceId, d.build, d.complete ? 'whole' : d.rangeEnd].join('\n');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

const isNoSuchKey = (e: unknown): boolean => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404;
};

export class DownloadLogService {
  constructor(private readonly deps: DownloadLogServiceDeps) {}

  /** Processes one log object. Throws on faults worth a retry; skips (and says why) what never will be readable. */
  async processFile(bucket: string, key: string): Promise<LogFileSummary> {
    const { s3, sink, logger } = this.deps;
    const empty = { key, downloads: 0, recorded: 0, malformed: 0, truncated: false };
    if (bucket !== this.deps.bucket || !key.startsWith(this.deps.prefix) || !key.endsWith('.gz')) return { ...empty, skipped: 'not-a-log-key' };

    let body: Uint8Array;
    try {
      const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      body = await obj.Body!.transformToByteArray();
    } catch (e) {
      // Deleted before we got to it: nothing left to read. (The function may not list the bucket,
      // so in the cloud S3 answers a missing key with 403, which is retried and then dropped —
      // only possible for events older than the 30-day expiry, far beyond the 6-hour event age.)
      if (isNoSuchKey(e)) {
        logger.warn('log file gone', { key });
        return { ...empty, skipped: 'gone' };
      }
      throw e;
    }
    let text: string;
    try {
      text = (await gunzipAsync(body, { maxOutputLength: MAX_LOG_BYTES })).toString('utf8');
    } catch (e) {
      logger.error('log file unreadable (not gzip, or too large); skipped', e, { key, bytes: body.length });
      return { ...empty, skipped: 'unreadable' };
    }

    const parsed = parseCdnLog(text, MAX_LOG_LINES);
    if (parsed.truncated) logger.warn('log file longer than the line cap; the rest is not read', { key, maxLines: MAX_LOG_LINES });
    const records = evidence(parsed.downloads);
    for (let i = 0; i < records.length; i += RECORD_BATCH) await sink.recordDownloads(records.slice(i, i + RECORD_BATCH));
    return { key, downloads: parsed.downloads.length, recorded: records.length, malformed: parsed.malformed, truncated: parsed.truncated };
  }
}
