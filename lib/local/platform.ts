/**
 * The local platform: the same handlers as the cloud stack, in one process, against embedded
 * DynamoDB and S3, a signing edge (the CloudFront twin) and an API Gateway twin.
 */
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DownloadSink } from '../../lambdas/core/download';
import { INGEST_TRIGGER_SUFFIXES } from '../../lambdas/core/manifest';
import type { FunctionName } from '../../lambdas/routes';
import { ENV } from '../../lambdas/shared/env';
import type { SweepSummary } from '../../lambdas/shared/rollout-service';
import { createS3Client } from '../../lambdas/shared/s3';
import { startEdge } from './edge';
import { startGateway, type HttpFunction } from './gateway';
import { wireIngestEvents, type IngestEvents, type UploadFunction } from './ingest-events';
import {
  generatePlatformSigningKey,
  generateS3Credentials,
  generateSigningKeys,
  loadOrCreatePlatformSigningKey,
  loadOrCreateS3Credentials,
  loadOrCreateSigningKeys,
  type LocalS3Credentials,
} from './keys';
import { LOCAL_BUCKETS, LOCAL_TABLE_NAMES, startPeers } from './peers';

export interface PlatformOptions {
  /** Where state persists (default `OTA_DATA_DIR` or `.ota-local/`). Ignored when `inMemory`. */
  readonly dataDir?: string;
  /** Keep everything in memory (tests, demo). */
  readonly inMemory?: boolean;
  /**
   * Bind address of the device API and the CDN edge (default `OTA_HOST` or 127.0.0.1). 0.0.0.0
   * lets ESP32s on the LAN reach device routes. S3 and DynamoDB stay on 127.0.0.1 regardless.
   */
  readonly host?: string;
  /** Host name put in URLs handed to devices (default `OTA_PUBLIC_HOST`, else the bind host). */
  readonly publicHost?: string;
  readonly apiPort?: number;
  readonly cdnPort?: number;
  readonly s3Port?: number;
  /** Gateway request log off. */
  readonly quiet?: boolean;
  /** How often the rollout sweeper runs (timeouts, auto-pauses, canary steps); 0 = only by `sweep()`. Default `OTA_SWEEP_SECONDS` or 30 s. */
  readonly sweepIntervalMs?: number;
  /** Routes the functions' DynamoDB traffic elsewhere, given dynalite's endpoint (fault tests put a proxy there). */
  readonly functionsDynamodbEndpoint?: (dynalite: string) => string;
  /** Replace handlers (tests of the platform itself). */
  readonly functions?: Partial<Record<FunctionName, HttpFunction>>;
  readonly upload?: UploadFunction;
}

export interface LocalPlatform {
  readonly apiUrl: string;
  readonly cdnUrl: string;
  /** The local S3 (127.0.0.1 only); it accepts only requests signed with `s3Credentials`. */
  readonly s3Endpoint: string;
  /** Generated per data dir (`<dataDir>/keys/s3-credentials.json`), or per process in memory. */
  readonly s3Credentials: LocalS3Credentials;
  readonly dynamodbEndpoint: string;
  readonly dataDir?: string;
  readonly tableNames: typeof LOCAL_TABLE_NAMES;
  readonly buckets: typeof LOCAL_BUCKETS;
  readonly keyPairId: string;
  readonly publicKeyPem: string;
  /** An S3 client for the local S3 (what CI would use). */
  readonly s3: S3Client;
  readonly ingest: IngestEvents;
  /** Runs the rollout sweeper now (as EventBridge would), with `now` as its clock. */
  sweep(now?: Date): Promise<SweepSummary>;
  stop(): Promise<void>;
}

const envPort = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

/** A port the platform wants is taken: which one, and the variable that moves it. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly envVar: string,
    readonly what: string,
  ) {
    super(`port ${port} (${what}) is already in use — is another \`npm start\` running? Set ${envVar} to a free port, e.g. ${envVar}=${port + 100} npm start`);
    this.name = 'PortInUseError';
  }
}

/** Rejections of `start` with EADDRINUSE become a PortInUseError naming `envVar`. */
async function listening<T>(start: Promise<T>, port: number, envVar: string, what: string): Promise<T> {
  try {
    return await start;
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE') throw new PortInUseError(port, envVar, what);
    throw e;
  }
}

export async function startPlatform(opts: PlatformOptions = {}): Promise<LocalPlatform> {
  const dataDir = opts.inMemory ? undefined : (opts.dataDir ?? process.env.OTA_DATA_DIR ?? '.ota-local');
  const host = opts.host ?? process.env.OTA_HOST ?? '127.0.0.1';
  const publicHost = opts.publicHost ?? process.env.OTA_PUBLIC_HOST;
  const keys = dataDir ? loadOrCreateSigningKeys(join(dataDir, 'keys')) : generateSigningKeys();
  const s3Credentials = dataDir ? loadOrCreateS3Credentials(join(dataDir, 'keys')) : generateS3Credentials();
  const platformSigningKey = dataDir ? loadOrCreatePlatformSigningKey(join(dataDir, 'keys')) : generatePlatformSigningKey();

  const s3Port = opts.s3Port ?? envPort('OTA_S3_PORT', 4569);
  const peers = await listening(startPeers({ dataDir, s3Port, s3Credentials }), s3Port, 'OTA_S3_PORT', 'local S3');
  const s3 = createS3Client(peers.s3Endpoint, s3Credentials);
  const stops: (() => Promise<void>)[] = [() => peers.stop()];
  try {
    // Completed downloads go to the outcome model as CloudFront's logs do in the cloud (the sink
    // needs the tables' configuration, so it is created once the environment is set below).
    let downloads: DownloadSink | undefined;
    const cdnPort = opts.cdnPort ?? envPort('OTA_CDN_PORT', 3001);
    const edge = await listening(
      startEdge({
        onDownload: (d) => downloads?.recordDownloads([d]),
        s3,
        bucket: LOCAL_BUCKETS.firmware,
        keyPairId: keys.keyPairId,
        publicKeyPem: keys.publicKeyPem,
        host,
        port: cdnPort,
        publicHost,
      }),
      cdnPort,
      'OTA_CDN_PORT',
      'CDN edge',
    );
    stops.unshift(() => edge.stop());

    // Handlers read their configuration at module load: set it before loading them.
    Object.assign(process.env, {
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      [ENV.FIRMWARE_TABLE]: LOCAL_TABLE_NAMES.FIRMWARE_TABLE,
      [ENV.DEPLOYMENTS_TABLE]: LOCAL_TABLE_NAMES.DEPLOYMENTS_TABLE,
      [ENV.DEVICES_TABLE]: LOCAL_TABLE_NAMES.DEVICES_TABLE,
      [ENV.INGEST_BUCKET]: LOCAL_BUCKETS.ingest,
      [ENV.FIRMWARE_BUCKET]: LOCAL_BUCKETS.firmware,
      [ENV.CDN_BASE_URL]: edge.baseUrl,
      [ENV.SIGNING_KEY_PAIR_ID]: keys.keyPairId,
      [ENV.SIGNING_PRIVATE_KEY_PEM]: keys.privateKeyPem,
      [ENV.PLATFORM_SIGNING_PRIVATE_KEY_PEM]: platformSigningKey,
      [ENV.DYNAMODB_ENDPOINT]: opts.functionsDynamodbEndpoint?.(peers.dynamodbEndpoint) ?? peers.dynamodbEndpoint,
      [ENV.S3_ENDPOINT]: peers.s3Endpoint,
      [ENV.S3_ACCESS_KEY_ID]: s3Credentials.accessKeyId,
      [ENV.S3_SECRET_ACCESS_KEY]: s3Credentials.secretAccessKey,
    });
    const functions = opts.functions ?? (await loadHandlers());
    downloads = (await import('../../lambdas/shared/download-service')).downloadService();
    const upload = opts.upload ?? ((await import('../../lambdas/handlers/upload')).handler as UploadFunction);

    const apiPort = opts.apiPort ?? envPort('OTA_PORT', 3000);
    const gateway = await listening(
      startGateway({
        functions,
        host,
        port: apiPort,
        ...(publicHost ? { publicHost } : {}),
        localS3Credentials: s3Credentials,
        log: opts.quiet ? undefined : (l) => process.stdout.write(`${l}\n`),
      }),
      apiPort,
      'OTA_PORT',
      'device and operator API',
    );
    stops.unshift(() => gateway.stop());
    const ingest = wireIngestEvents({ s3rver: peers.s3rver, bucket: LOCAL_BUCKETS.ingest, suffix: INGEST_TRIGGER_SUFFIXES, upload });
    const rollout = (await import('../../lambdas/handlers/rollout')).handler;
    const sweep = (now?: Date) => rollout(now ? { time: now.toISOString() } : {});
    const sweepEvery = opts.sweepIntervalMs ?? (process.env.OTA_SWEEP_SECONDS ? Number(process.env.OTA_SWEEP_SECONDS) * 1000 : 30_000);
    let sweeping: Promise<unknown> = Promise.resolve();
    const timer =
      sweepEvery > 0 ? setInterval(() => (sweeping = sweep().catch((e) => process.stderr.write(`sweep: ${(e as Error).message}\n`))), sweepEvery) : undefined;
    timer?.unref();
    stops.unshift(async () => {
      if (timer) clearInterval(timer);
      await sweeping;
    });

    const apiUrl = publicHost ? gateway.url.replace(/\/\/[^:]+:/, `//${publicHost}:`) : gateway.url;
    return {
      apiUrl,
      cdnUrl: edge.baseUrl,
      s3Endpoint: peers.s3Endpoint,
      s3Credentials,
      dynamodbEndpoint: peers.dynamodbEndpoint,
      ...(dataDir ? { dataDir } : {}),
      tableNames: LOCAL_TABLE_NAMES,
      buckets: LOCAL_BUCKETS,
      keyPairId: keys.keyPairId,
      publicKeyPem: keys.publicKeyPem,
      s3,
      ingest,
      sweep,
      async stop() {
        await ingest.idle();
        for (const stop of stops) await stop();
        s3.destroy();
      },
    };
  } catch (e) {
    for (const stop of stops) await stop().catch(() => undefined);
    s3.destroy();
    throw e;
  }
}

/** Every function of the route table, loaded from lambdas/handlers/<fn>.ts. */
async function loadHandlers(): Promise<Partial<Record<FunctionName, HttpFunction>>> {
  const [check, status, activation, upload, admin] = await Promise.all([
    import('../../lambdas/handlers/check'),
    import('../../lambdas/handlers/status'),
    import('../../lambdas/handlers/activation'),
    import('../../lambdas/handlers/upload'),
    import('../../lambdas/handlers/admin'),
  ]);
  return {
    check: check.handler as HttpFunction,
    status: status.handler as HttpFunction,
    activation: activation.handler as HttpFunction,
    upload: upload.handler as HttpFunction,
    admin: admin.handler as HttpFunction,
  };
}
