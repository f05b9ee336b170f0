/**
 * Where `otactl` talks to, from (highest first) flags, environment, a `cdk deploy
 * --outputs-file` JSON, the selected named context (lib/cli/contexts.ts), and finally the local
 * platform's defaults (`npm start`, on OTA_PORT / OTA_S3_PORT like the platform itself).
 *
 *   operator API   --endpoint | --api-url | OTA_API_URL | OTA_ENDPOINT | outputs AdminApiUrl | context api_url
 *                  | http://127.0.0.1:${OTA_PORT:-3000}
 *   device API     --device-endpoint | OTA_DEVICE_ENDPOINT | outputs DeviceApiUrl | context device_api_url | the operator endpoint
 *   ingest bucket  --bucket | OTA_INGEST_BUCKET | outputs IngestBucketName | context bucket | ota-ingest (local only)
 *   S3 endpoint    --s3-endpoint | OTA_S3_ENDPOINT | context s3_endpoint | http://127.0.0.1:${OTA_S3_PORT:-4569} when
 *                  the API is local and no bucket is named | real S3 (credential chain)
 *   region         --region | the endpoint host (…execute-api.<region>.amazonaws.com) | AWS_REGION | AWS_DEFAULT_REGION
 *                  | context region
 *   context        --context | OTA_CONTEXT | the current one (`otactl context use`)
 *
 * A loopback endpoint is the local platform: requests go unsigned. Anything else is signed with
 * SigV4 (`execute-api`) using the standard AWS credential chain; `--sign` / `--no-sign` override.
 */
import { readFileSync } from 'node:fs';
import { selectedContext } from './contexts';
import { CliError, UsageError } from './errors';
import { isLoopbackHost, regionFromHost } from './signer';

export const LOCAL_API_PORT = 3000;
export const LOCAL_S3_PORT = 4569;
export const LOCAL_ENDPOINT = `http://127.0.0.1:${LOCAL_API_PORT}`;
export const LOCAL_S3_ENDPOINT = `http://127.0.0.1:${LOCAL_S3_PORT}`;

function envPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name]?.trim();
  if (!v) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new UsageError(`${name} must be a TCP port (1–65535), got "${v}"`);
  return Number(v);
}

/** The local platform's operator/device API as `npm start` binds it: OTA_PORT, like lib/local/platform.ts. */
export const localEndpoint = (env: NodeJS.ProcessEnv = process.env): string => `http://127.0.0.1:${envPort(env, 'OTA_PORT', LOCAL_API_PORT)}`;
/** The local platform's S3: OTA_S3_PORT. */
export const localS3Endpoint = (env: NodeJS.ProcessEnv = process.env): string => `http://127.0.0.1:${envPort(env, 'OTA_S3_PORT', LOCAL_S3_PORT)}`;
export const LOCAL_INGEST_BUCKET = 'ota-ingest';

export interface ConnectionOptions {
  readonly endpoint?: string;
  /** Same as `endpoint` (`--api-url`, the name the contexts use). */
  readonly apiUrl?: string;
  /** A named context instead of the current one. */
  readonly context?: string;
  readonly deviceEndpoint?: string;
  readonly region?: string;
  readonly bucket?: string;
  readonly s3Endpoint?: string;
  readonly stackOutputs?: string;
  /** undefined = decide by the endpoint (loopback: unsigned). */
  readonly sign?: boolean;
}

export interface ResolvedConnection {
  readonly endpoint: string;
  readonly deviceEndpoint: string;
  /** The endpoint is the local platform. */
  readonly local: boolean;
  readonly sign: boolean;
  /** Signing / S3 region; undefined only when nothing needs one. */
  readonly region?: string;
  /** The named context that supplied settings (absent: none did). */
  readonly context?: string;
  readonly ingest: {
    /** undefined: not configured (only `publish` needs it, and says so). */
    readonly bucket?: string;
    /** s3rver-style endpoint (path style, S3RVER credentials); undefined = real S3 with the credential chain. */
    readonly s3Endpoint?: string;
  };
}

export interface StackOutputs {
  readonly AdminApiUrl?: string;
  readonly DeviceApiUrl?: string;
  readonly IngestBucketName?: string;
}

/**
 * Reads `cdk deploy --outputs-file` JSON: `{ "<StackName>": { "AdminApiUrl": …, … } }`. The stack
 * with an `AdminApiUrl` is used; a flat `{ AdminApiUrl, … }` object works too.
 */
export function readStackOutputs(path: string): StackOutputs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read stack outputs ${path}: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object') throw new CliError(`${path} is not a CDK outputs file`);
  const obj = parsed as Record<string, unknown>;
  if (typeof obj.AdminApiUrl === 'string') return obj as StackOutputs;
  const stacks = Object.entries(obj).filter(([, v]) => v && typeof v === 'object' && typeof (v as StackOutputs).AdminApiUrl === 'string');
  if (stacks.length === 0) throw new CliError(`${path} has no stack with an AdminApiUrl output`);
  if (stacks.length > 1) {
    throw new CliError(`${path} has several stacks with an AdminApiUrl (${stacks.map(([k]) => k).join(', ')}); pass --endpoint/--bucket instead`);
  }
  return stacks[0][1] as StackOutputs;
}

const nonEmpty = (v: string | undefined): string | undefined => (v && v.trim() ? v.trim() : undefined);

function parseUrl(value: string, what: string): URL {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u;
  } catch {
    throw new CliError(`${what} is not an http(s) URL: ${value}`);
  }
}

export function resolveConnection(opts: ConnectionOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  const outputsPath = nonEmpty(opts.stackOutputs) ?? nonEmpty(env.OTA_STACK_OUTPUTS);
  const outputs = outputsPath ? readStackOutputs(outputsPath) : {};
  const ctx = selectedContext(env, opts.context);
  const endpoint = (
    nonEmpty(opts.endpoint) ??
    nonEmpty(opts.apiUrl) ??
    nonEmpty(env.OTA_API_URL) ??
    nonEmpty(env.OTA_ENDPOINT) ??
    nonEmpty(outputs.AdminApiUrl) ??
    nonEmpty(ctx?.api_url) ??
    localEndpoint(env)
  ).replace(/\/+$/, '');
  const url = parseUrl(endpoint, 'endpoint');
  const local = isLoopbackHost(url.hostname);
  const deviceEndpoint = (
    nonEmpty(opts.deviceEndpoint) ??
    nonEmpty(env.OTA_DEVICE_ENDPOINT) ??
    nonEmpty(outputs.DeviceApiUrl) ??
    nonEmpty(ctx?.device_api_url) ??
    endpoint
  ).replace(/\/+$/, '');
  parseUrl(deviceEndpoint, 'device endpoint');
  const region = nonEmpty(opts.region) ?? regionFromHost(url.hostname) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? nonEmpty(ctx?.region);
  const sign = opts.sign ?? !local;
  if (sign && !region) {
    throw new CliError(`cannot tell the AWS region of ${endpoint}; pass --region or set AWS_REGION`);
  }
  const configuredBucket = nonEmpty(opts.bucket) ?? nonEmpty(env.OTA_INGEST_BUCKET) ?? nonEmpty(outputs.IngestBucketName) ?? nonEmpty(ctx?.bucket);
  // A bucket named without an S3 endpoint is a real bucket (CI that only publishes sets just
  // OTA_INGEST_BUCKET); with nothing configured at all, publish goes to the local s3rver.
  const s3Endpoint =
    nonEmpty(opts.s3Endpoint) ?? nonEmpty(env.OTA_S3_ENDPOINT) ?? nonEmpty(ctx?.s3_endpoint) ?? (local && !configuredBucket ? localS3Endpoint(env) : undefined);
  if (s3Endpoint) parseUrl(s3Endpoint, 's3 endpoint');
  const bucket = configuredBucket ?? (s3Endpoint ? LOCAL_INGEST_BUCKET : undefined);
  return {
    endpoint,
    deviceEndpoint: deviceEndpoint,
    local,
    sign,
    ...(region ? { region } : {}),
    ...(ctx ? { context: ctx.name } : {}),
    ingest: { ...(bucket ? { bucket } : {}), ...(s3Endpoint ? { s3Endpoint: s3Endpoint.replace(/\/+$/, '') } : {}) },
  };
}
