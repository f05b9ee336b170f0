/** Publishes a CI release folder to an ingest bucket the way CI does: binaries first, manifest.json last. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface ReleaseFolder {
  readonly product: string;
  readonly version: string;
  /** File name → bytes. */
  readonly files: Record<string, Buffer>;
  /** Manifest fields beyond product/version/files (firmware_type, release, notes…), or a raw manifest text. */
  readonly manifest?: Record<string, unknown> | string;
}

export async function uploadRelease(s3: S3Client, bucket: string, r: ReleaseFolder): Promise<string> {
  const prefix = `${r.product}/${r.version}/`;
  for (const [name, bytes] of Object.entries(r.files)) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${name}`, Body: bytes }));
  }
  const manifest =
    typeof r.manifest === 'string'
      ? r.manifest
      : JSON.stringify({ product: r.product, version: r.version, files: Object.keys(r.files).map((name) => ({ name })), ...r.manifest });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}manifest.json`, Body: manifest, ContentType: 'application/json' }));
  return `${prefix}manifest.json`;
}

export async function readResult(s3: S3Client, bucket: string, product: string, version: string): Promise<any> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${product}/${version}/result.json` }));
  return JSON.parse(await r.Body!.transformToString());
}

/** Uploads a release folder to the local platform, waits for the upload function, and returns result.json. */
export async function publishRelease(
  platform: { s3: S3Client; buckets: { ingest: string }; ingest: { idle(): Promise<void> } },
  r: ReleaseFolder,
): Promise<any> {
  await uploadRelease(platform.s3, platform.buckets.ingest, r);
  await platform.ingest.idle();
  return readResult(platform.s3, platform.buckets.ingest, r.product, r.version);
}
