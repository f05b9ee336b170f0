/**
 * S3 → Lambda notifications, locally: s3rver's ObjectCreated events for keys with one of the
 * configured suffixes (`manifest.json`, `.bin`, `.ufw`) in the ingest bucket invoke the upload
 * handler asynchronously, with keys URL-encoded as S3 sends them, with Lambda's retry behaviour (two
 * retries, then the event is "dead-lettered" to the log).
 */
import type { S3Event } from 'aws-lambda';
import type { S3rverInstance } from './peers';

export type UploadFunction = (event: S3Event) => Promise<unknown>;

export interface IngestEvents {
  /** Resolves once every invocation started so far has settled (tests, `otactl publish`). */
  idle(): Promise<void>;
  /** Events that failed all attempts. */
  readonly deadLetters: S3Event[];
}

/**
 * Real S3 URL-encodes object keys in notifications as a form does: spaces as `+`, a literal `+`
 * as `%2B`, `/` kept; s3rver sends them raw.
 */
export const encodeS3EventKey = (key: string): string =>
  key
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%20/g, '+'))
    .join('/');

export function wireIngestEvents(opts: {
  s3rver: S3rverInstance;
  bucket: string;
  /** Key suffixes that trigger the function (S3 notification filters). */
  suffix: string | readonly string[];
  upload: UploadFunction;
  retryDelaysMs?: readonly number[];
  log?: (line: string) => void;
}): IngestEvents {
  const pending = new Set<Promise<void>>();
  const deadLetters: S3Event[] = [];
  const delays = opts.retryDelaysMs ?? [200, 1000];
  const suffixes = typeof opts.suffix === 'string' ? [opts.suffix] : opts.suffix;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));

  const invoke = async (event: S3Event) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await opts.upload(event);
        return;
      } catch (e) {
        if (attempt >= delays.length) {
          deadLetters.push(event);
          log(`ingest: dead-lettered ${event.Records[0]?.s3.object.key}: ${(e as Error).message}`);
          return;
        }
        await new Promise((r) => setTimeout(r, delays[attempt]));
      }
    }
  };

  opts.s3rver.on('event', (raw) => {
    const event = raw as S3Event;
    const records = (event.Records ?? []).filter(
      (r) => r.eventName.startsWith('ObjectCreated') && r.s3.bucket.name === opts.bucket && suffixes.some((x) => r.s3.object.key.endsWith(x)),
    );
    if (!records.length) return;
    const normalised: S3Event = {
      Records: records.map((r) => ({ ...r, s3: { ...r.s3, object: { ...r.s3.object, key: encodeS3EventKey(r.s3.object.key) } } })),
    };
    // Like S3 → Lambda: asynchronous; the uploader's PUT has already succeeded.
    const p = new Promise<void>((resolve) => setImmediate(resolve)).then(() => invoke(normalised));
    pending.add(p);
    p.finally(() => pending.delete(p));
  });

  return {
    deadLetters,
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
