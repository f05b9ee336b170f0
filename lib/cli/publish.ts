/**
 * `otactl publish <dir>`: CI's way into the ingest pipeline. Writes `manifest.json` for the
 * folder (every regular file, with its sha256), uploads the files to `<product>/<version>/` of
 * the ingest bucket — `manifest.json` last, because its arrival triggers the upload function —
 * then polls `result.json` for the verdict: the build number, or the rejection code + reason.
 *
 * A `result.json` from an earlier upload of the same version must never be taken for this one's
 * verdict, so before the manifest goes up a `{ "status": "pending" }` placeholder is written
 * over it (PutObject only: CI roles need not delete), and while polling a result counts only if
 * it is not pending, names this product/version and — when accepted — lists exactly the sha256
 * of the bytes uploaded here (a re-upload of identical bytes legitimately returns the same build);
 * a verdict stamped with the sha256 of the manifest it judged must name ours.
 *
 * Not final, so waited through: `pending` (the pipeline is waiting for listed files, e.g. a CI
 * that uploads them after the manifest; "waiting for …" is shown once) and `error` (an
 * unexpected fault the pipeline retries). If either is still the last word at the timeout, its
 * reason is reported with the timeout.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { classifyFiles, PRODUCT_ID_PATTERN } from '../../lambdas/core/manifest';
import { isValidVersion } from '../../lambdas/core/version';
import type { BuildSigner } from './build-signing';
import type { ResolvedConnection } from './config';
import { CliError } from './errors';
import { formatBytes, keyValues, printJson, println, ProgressBar, type Output } from './output';

export const MANIFEST_NAME = 'manifest.json';
export const RESULT_NAME = 'result.json';
/** Exit code when no verdict arrived in time (rejection: 1). */
export const EXIT_TIMEOUT = 2;

export interface PublishOptions {
  readonly dir: string;
  readonly product: string;
  readonly version: string;
  readonly firmwareType?: string;
  readonly release?: boolean;
  readonly notes?: string;
  readonly channel?: string;
  readonly boards?: readonly string[];
  readonly appVersionCheck?: boolean;
  readonly force?: boolean;
  readonly minVersion?: string;
  readonly hwRevisionMin?: number;
  readonly hwRevisionMax?: number;
  readonly requiredStep?: boolean;
  /** Seconds to wait for result.json (default 120). */
  readonly timeoutSeconds?: number;
  /** Also save the generated manifest.json into the folder (default true). */
  readonly writeManifest?: boolean;
  /** Signs the app image on the way (detached ECDSA P-256: `files[].signature` + `key_id`). */
  readonly signer?: BuildSigner;
}

export interface PublishDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly out: Output;
  readonly json?: boolean;
  /** Poll interval for result.json (default 1000 ms). */
  readonly pollIntervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The upload function's verdict (lambdas/shared/ingest-service.ts IngestResult), as read back. */
export type IngestVerdict =
  | {
      status: 'accepted';
      product: string;
      version: string;
      build_number: number;
      state: string;
      files: { role: string; name: string; size: number; sha256: string; crc32: string }[];
      excluded: string[];
      duplicate: boolean;
      /** Absent in verdicts of pipelines older than signing. */
      signature?: { form: string; key_ids: string[]; platform_signed: boolean };
      warnings?: string[];
      [k: string]: unknown;
    }
  | { status: 'rejected'; code: string; reason: string; product?: string; version?: string; manifest_sha256?: string };

/** A verdict that is not final: the pipeline is waiting for files, or retrying after a fault. */
export interface InterimVerdict {
  status: 'pending' | 'error';
  code?: string;
  reason?: string;
  missing?: string[];
  product?: string;
  version?: string;
  manifest_sha256?: string;
}

export interface PublishOutcome {
  readonly exitCode: number;
  readonly manifest: Record<string, unknown>;
  readonly result?: IngestVerdict;
}

export interface LocalFile {
  readonly name: string;
  readonly bytes: Buffer;
  readonly sha256: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The folder's regular files (symlinks followed), sorted; hidden files (`.DS_Store`, `.gitkeep`)
 * and our own manifest.json / result.json are skipped. Subfolders are not descended into: the
 * ingest prefix is flat.
 */
export function readReleaseFolder(dir: string): LocalFile[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw new CliError(`cannot read ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const files: LocalFile[] = [];
  for (const name of entries.sort()) {
    if (name.startsWith('.') || name === MANIFEST_NAME || name === RESULT_NAME) continue;
    const path = join(dir, name);
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch {
      continue; // dangling symlink
    }
    if (!isFile) continue;
    const bytes = readFileSync(path);
    files.push({ name, bytes, sha256: sha256(bytes) });
  }
  if (files.length === 0) throw new CliError(`${dir} has no files to publish`);
  return files;
}

/** The CI manifest (lambdas/core/manifest.ts IngestManifestSchema) for these files and options. */
export function buildManifest(
  opts: PublishOptions,
  files: readonly LocalFile[],
  signed?: { readonly name: string; readonly signature: string; readonly keyId: string },
): Record<string, unknown> {
  return {
    product: opts.product,
    version: opts.version,
    ...(opts.firmwareType !== undefined ? { firmware_type: opts.firmwareType } : {}),
    files: files.map((f) => ({
      name: f.name,
      sha256: f.sha256,
      ...(signed?.name === f.name ? { signature: signed.signature, key_id: signed.keyId } : {}),
    })),
    ...(opts.notes !== undefined ? { notes: opts.notes } : {}),
    ...(opts.channel !== undefined ? { channel: opts.channel } : {}),
    ...(opts.release ? { release: true } : {}),
    ...(opts.boards?.length ? { boards: [...opts.boards] } : {}),
    ...(opts.appVersionCheck === false ? { app_version_check: false } : {}),
    ...(opts.force ? { force: true } : {}),
    ...(opts.minVersion !== undefined ? { min_version: opts.minVersion } : {}),
    ...(opts.hwRevisionMin !== undefined ? { hw_revision_min: opts.hwRevisionMin } : {}),
    ...(opts.hwRevisionMax !== undefined ? { hw_revision_max: opts.hwRevisionMax } : {}),
    ...(opts.requiredStep ? { required_step: true } : {}),
  };
}

/** Signs the folder's app image (the file ingest classifies as `app`); signatures cover the app image only. */
async function signAppImage(signer: BuildSigner, files: readonly LocalFile[]): Promise<{ name: string; signature: string; keyId: string }> {
  const { app } = classifyFiles(files.map((f) => f.name));
  const file = files.find((f) => f.name === app);
  if (!file) throw new CliError('no app image to sign in the folder');
  return { name: file.name, signature: await signer.sign(file.bytes), keyId: signer.keyId };
}

/**
 * Is this result.json the verdict on the upload we just made? Pending placeholders are not;
 * another product/version's is not; an acceptance must list our bytes (sha256 per file name).
 */
export function describesUpload(
  result: unknown,
  product: string,
  version: string,
  files: readonly LocalFile[],
  manifestSha256?: string,
): result is IngestVerdict {
  if (!result || typeof result !== 'object') return false;
  const r = result as Partial<IngestVerdict> & { status?: string; manifest_sha256?: unknown };
  if (manifestSha256 !== undefined && typeof r.manifest_sha256 === 'string' && r.manifest_sha256 !== manifestSha256) return false;
  if (r.status === 'rejected') {
    return (r.product === undefined || r.product === product) && (r.version === undefined || r.version === version);
  }
  if (r.status !== 'accepted') return false; // 'pending' or anything unknown
  if (r.product !== product || r.version !== version || !Array.isArray(r.files) || r.files.length === 0) return false;
  const ours = new Map(files.map((f) => [f.name, f.sha256]));
  return r.files.every((f) => typeof f?.sha256 === 'string' && ours.get(f.name) === f.sha256.toLowerCase());
}

/** A body stream that reports how many bytes the SDK has pulled from it. */
function countingBody(bytes: Buffer, onBytes: (n: number) => void, chunkSize = 64 * 1024): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= bytes.length) {
        this.push(null);
        return;
      }
      const chunk = bytes.subarray(offset, Math.min(bytes.length, offset + chunkSize));
      offset += chunk.length;
      onBytes(chunk.length);
      this.push(chunk);
    },
  });
}

async function readResultJson(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await r.Body!.transformToString();
    try {
      return JSON.parse(text);
    } catch {
      return undefined; // half-written or foreign: keep polling
    }
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
    throw e;
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A streamed body cannot be replayed by the SDK's own retry, so a failed file upload is retried
 * here with a fresh stream: network faults, 5xx and throttling, three attempts. Client errors
 * (AccessDenied, NoSuchBucket) fail at once.
 */
async function withRetries<T>(fn: () => Promise<T>, sleep: (ms: number) => Promise<void>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = err.$metadata?.httpStatusCode;
      const retryable =
        (status === undefined && err.name !== 'CredentialsProviderError') ||
        (status !== undefined && status >= 500) ||
        status === 429 ||
        /Throttl|SlowDown|RequestTimeout/.test(err.name ?? '');
      if (!retryable || attempt >= attempts) throw e;
      await sleep(1000 * attempt);
    }
  }
}

export async function publish(deps: PublishDeps, opts: PublishOptions): Promise<PublishOutcome> {
  const { s3, bucket, out } = deps;
  // The ingest would reject these too, but they also form the object keys: refuse before uploading.
  if (!PRODUCT_ID_PATTERN.test(opts.product)) throw new CliError(`--product "${opts.product}" must match [a-z0-9][a-z0-9_-]{0,31}`);
  if (!isValidVersion(opts.version)) throw new CliError(`--version "${opts.version}" is not a semver, calendar or numeric version`);
  const files = readReleaseFolder(opts.dir);
  const manifest = buildManifest(opts, files, opts.signer ? await signAppImage(opts.signer, files) : undefined);
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  if (opts.writeManifest !== false) writeFileSync(join(opts.dir, MANIFEST_NAME), manifestText);
  const prefix = `${opts.product}/${opts.version}/`;

  // 1. The files, with a progress bar on a terminal and one line per file otherwise.
  const total = files.reduce((n, f) => n + f.bytes.length, 0);
  const progress = new ProgressBar(out.stderr, total);
  let sent = 0;
  for (const [i, f] of files.entries()) {
    const label = `${f.name} (${i + 1}/${files.length})`;
    progress.update(sent, label, true);
    const before = sent;
    await withRetries(() => {
      sent = before;
      return s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}${f.name}`,
          Body: countingBody(f.bytes, (n) => progress.update((sent += n), label)),
          ContentLength: f.bytes.length,
          ContentType: 'application/octet-stream',
        }),
      );
    }, deps.sleep ?? defaultSleep);
    sent = before + f.bytes.length;
    progress.update(sent, label, true);
    if (!progress.live) println(out.stderr, `uploaded ${prefix}${f.name} (${formatBytes(f.bytes.length)}, sha256 ${f.sha256.slice(0, 12)}…)`);
  }
  progress.done();

  // 2. Invalidate an earlier verdict, then 3. the manifest, which starts the ingest.
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${prefix}${RESULT_NAME}`,
      Body: JSON.stringify({ status: 'pending', note: 'otactl publish in progress; the upload function overwrites this' }),
      ContentType: 'application/json',
    }),
  );
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${MANIFEST_NAME}`, Body: manifestText, ContentType: 'application/json' }));
  println(out.stderr, `uploaded ${prefix}${MANIFEST_NAME}; waiting for ${prefix}${RESULT_NAME} …`);

  // 4. Poll the verdict.
  const sleep = deps.sleep ?? defaultSleep;
  const deadline = Date.now() + (opts.timeoutSeconds ?? 120) * 1000;
  const interval = deps.pollIntervalMs ?? 1000;
  const manifestSha256 = sha256(Buffer.from(manifestText));
  let interim: InterimVerdict | undefined;
  let shownWaiting = '';
  for (;;) {
    const result = await readResultJson(s3, bucket, `${prefix}${RESULT_NAME}`);
    if (describesUpload(result, opts.product, opts.version, files, manifestSha256)) return report(out, deps.json, manifest, result);
    const r = result as InterimVerdict | undefined;
    if ((r?.status === 'pending' || r?.status === 'error') && r.reason && (r.manifest_sha256 === undefined || r.manifest_sha256 === manifestSha256)) {
      interim = r;
      if (r.reason !== shownWaiting) println(out.stderr, `${r.status}: ${r.reason}`);
      shownWaiting = r.reason;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  const message = interim
    ? `no final verdict in s3://${bucket}/${prefix}${RESULT_NAME} after ${opts.timeoutSeconds ?? 120} s; last: ${interim.status} ${interim.code ?? ''}: ${interim.reason}`
    : `no verdict in s3://${bucket}/${prefix}${RESULT_NAME} after ${opts.timeoutSeconds ?? 120} s (is the upload function wired to the bucket?)`;
  if (deps.json) printJson(out, { status: 'timeout', product: opts.product, version: opts.version, message });
  println(out.stderr, `error: timeout: ${message}`);
  return { exitCode: EXIT_TIMEOUT, manifest };
}

const signatureText = (s: { form: string; key_ids: readonly string[]; platform_signed: boolean }): string =>
  s.form === 'none' ? 'none (unsigned)' : `${s.form}${s.platform_signed ? ' (platform)' : ''}, key ${s.key_ids.join(', ')}`;

function report(out: Output, json: boolean | undefined, manifest: Record<string, unknown>, result: IngestVerdict): PublishOutcome {
  if (json) printJson(out, result);
  if (result.status === 'rejected') {
    if (!json) println(out.stdout, `rejected: ${result.code}: ${result.reason}`);
    else println(out.stderr, `rejected: ${result.code}: ${result.reason}`);
    return { exitCode: 1, manifest, result };
  }
  if (!json) {
    // The build number alone on stdout (BUILD=$(otactl publish …)); the details on stderr.
    println(out.stdout, String(result.build_number));
    out.stderr.write(
      keyValues([
        ['accepted', `${result.product} ${result.version}${result.duplicate ? ' (same bytes as before: same build)' : ''}`],
        ['build', result.build_number],
        ['state', result.state],
        ['files', result.files.map((f) => `${f.name} (${f.role})`)],
        ...(result.excluded?.length ? [['excluded', result.excluded] as const] : []),
        ...(result.signature ? [['signature', signatureText(result.signature)] as const] : []),
      ]),
    );
  }
  for (const w of result.warnings ?? []) println(out.stderr, `warning: ${w}`);
  return { exitCode: 0, manifest, result };
}

/**
 * Credentials for an S3-compatible endpoint: OTA_S3_ACCESS_KEY_ID / OTA_S3_SECRET_ACCESS_KEY if
 * set; else, for the local platform, the pair its operator API hands to loopback operators (the
 * local S3 accepts nothing else); else s3rver's stock key.
 */
function localS3CredentialProvider(conn: ResolvedConnection, env: NodeJS.ProcessEnv) {
  return async (): Promise<{ accessKeyId: string; secretAccessKey: string }> => {
    if (env.OTA_S3_ACCESS_KEY_ID && env.OTA_S3_SECRET_ACCESS_KEY)
      return { accessKeyId: env.OTA_S3_ACCESS_KEY_ID, secretAccessKey: env.OTA_S3_SECRET_ACCESS_KEY };
    if (!conn.local) return { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const r = await fetch(`${conn.endpoint}/local/s3-credentials`, { signal: AbortSignal.timeout(10_000) }).catch((e: Error) => {
      throw new CliError(`cannot reach the local platform at ${conn.endpoint} for its S3 credentials: ${e.message}`);
    });
    const c = (await r.json().catch(() => undefined)) as { accessKeyId?: unknown; secretAccessKey?: unknown } | undefined;
    if (!r.ok || typeof c?.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string') {
      throw new CliError(
        `the local platform at ${conn.endpoint} did not hand out its S3 credentials (HTTP ${r.status}); set OTA_S3_ACCESS_KEY_ID / OTA_S3_SECRET_ACCESS_KEY`,
      );
    }
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  };
}

/** The ingest bucket's S3 client: s3rver-style for a local/explicit endpoint, real S3 with the credential chain otherwise. */
export function ingestS3Client(conn: ResolvedConnection, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = conn.ingest.s3Endpoint;
  if (endpoint) {
    // lambdas/shared/s3.ts createS3Client: path-style only, no flexible checksums.
    return new S3Client({
      region: conn.region ?? 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: localS3CredentialProvider(conn, env),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }
  return new S3Client({
    region: conn.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    followRegionRedirects: true,
    credentials: fromNodeProviderChain(),
    // The manifest carries each file's sha256 and the upload function verifies it; a streamed
    // body then needs no aws-chunked trailer.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}
