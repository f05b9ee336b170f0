/**
 * Names of the environment variables through which the stack (or the local platform) configures
 * the functions. Each function reads only the ones it needs, once, at init (see config.ts).
 */
export const ENV = {
  FIRMWARE_TABLE: 'FIRMWARE_TABLE',
  DEPLOYMENTS_TABLE: 'DEPLOYMENTS_TABLE',
  DEVICES_TABLE: 'DEVICES_TABLE',
  INGEST_BUCKET: 'INGEST_BUCKET',
  FIRMWARE_BUCKET: 'FIRMWARE_BUCKET',
  /** Bucket CloudFront delivers its standard logs to (cloud only; read by the download-log function). */
  CDN_LOG_BUCKET: 'CDN_LOG_BUCKET',
  /** Key prefix of those logs, e.g. `cdn/` (the function reads nothing else). */
  CDN_LOG_PREFIX: 'CDN_LOG_PREFIX',
  /** `https://dxxxx.cloudfront.net` in the cloud, `http://127.0.0.1:3001` locally. No trailing slash. */
  CDN_BASE_URL: 'CDN_BASE_URL',
  /** CloudFront public key id (the `Key-Pair-Id` of signed URLs). */
  SIGNING_KEY_PAIR_ID: 'SIGNING_KEY_PAIR_ID',
  /** Secrets Manager secret (ARN or name) holding the PEM private key (cloud). */
  SIGNING_KEY_SECRET_ID: 'SIGNING_KEY_SECRET_ID',
  /** PEM private key inline (local platform only). */
  SIGNING_PRIVATE_KEY_PEM: 'SIGNING_PRIVATE_KEY_PEM',
  /** KMS key (ARN) of platform build signing, ECC_NIST_P256 (cloud; set only where the stack enables it). */
  PLATFORM_SIGNING_KEY_ARN: 'PLATFORM_SIGNING_KEY_ARN',
  /** PEM (PKCS#8) P-256 private key standing in for the KMS key, inline (local platform only; kept under the data dir). */
  PLATFORM_SIGNING_PRIVATE_KEY_PEM: 'PLATFORM_SIGNING_PRIVATE_KEY_PEM',
  /** Lifetime of signed download URLs, seconds (default 900). */
  URL_TTL_SECONDS: 'URL_TTL_SECONDS',
  /** How long a container trusts its cached product/deployment config, seconds (default 5). */
  CONFIG_CACHE_TTL_SECONDS: 'CONFIG_CACHE_TTL_SECONDS',
  /** A known, unchanged device's last-seen is rewritten only when older than this, seconds (default 3600). */
  LAST_SEEN_WRITE_INTERVAL_SECONDS: 'LAST_SEEN_WRITE_INTERVAL_SECONDS',
  /** Upload function: how long a manifest waits for files it lists but that are not uploaded yet, seconds (default 900). */
  INGEST_UPLOAD_WINDOW_SECONDS: 'INGEST_UPLOAD_WINDOW_SECONDS',
  /** Local platform only: endpoints of the embedded peers. */
  DYNAMODB_ENDPOINT: 'OTA_DYNAMODB_ENDPOINT',
  S3_ENDPOINT: 'OTA_S3_ENDPOINT',
  /** Local platform only: the local S3's credentials (generated per data dir; the S3 front refuses any other). */
  S3_ACCESS_KEY_ID: 'OTA_S3_ACCESS_KEY_ID',
  S3_SECRET_ACCESS_KEY: 'OTA_S3_SECRET_ACCESS_KEY',
} as const;
export type EnvName = (typeof ENV)[keyof typeof ENV];

/** The Lambda's region (set by the runtime; defaulted locally). */
export const awsRegion = (): string => process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
