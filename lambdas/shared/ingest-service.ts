/**
 * Ingest of one CI release folder `<productId>/<version>/` whose `manifest.json` just landed.
 *
 * Validate everything first (manifest, file classification, one streaming pass per file for
 * size + sha256 + CRC32 + ESP image header), then claim the version (conditional put: first
 * upload wins), allocate a build number (atomic counter), copy the accepted bytes to immutable
 * keys and write the record. Every step is idempotent, so a duplicated or retried S3 event
 * yields the same single build. The outcome is written as `result.json` beside the manifest;
 * rejected uploads keep their objects (the ingest bucket is versioned).
 */
import { createHash } from 'node:crypto';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { contentDigest, digestStream } from '../core/checksum';
import { firmwareObjectKey } from '../core/download-url';
import { DomainError, isDomainError } from '../core/errors';
import { checkImageStructure, DEFAULT_MAX_IMAGE_SIZE, parseEspAppImage, validateAppImage } from '../core/esp-image';
import { classifyFiles, parseIngestManifest, type IngestManifest } from '../core/manifest';
import type { AppDescriptor, FileRole, Firmware, FirmwareFile } from '../core/model';
import type { Logger } from './logger';
import { countIngest } from './metrics';
import type { CatalogStore } from './store/catalog-store';

export const MANIFEST_NAME = 'manifest.json';
export const RESULT_NAME = 'result.json';
const MAX_MANIFEST_BYTES = 64 * 1024;

export type IngestResult =
  | {
      readonly status: 'accepted';
      readonly product: string;
      readonly version: string;
      readonly build_number: number;
      readonly state: Firmware['state'];
      readonly files: readonly { role: FileRole; name: string; size: number; sha256: string; crc32: string }[];
      readonly excluded: readonly string[];
      /** What the image says about itself (esp_image_header_t + esp_app_desc_t), as recorded on the build. */
      readonly app: ImageSummary;
      /** Devices the build was assigned to (manifest `assign_to`). */
      readonly assigned_to?: readonly string[];
      readonly duplicate: boolean;
    }
  | { readonly status: 'rejected'; readonly code: string; readonly reason: string; readonly product?: string; readonly version?: string };

export interface ImageSummary {
  readonly project_name: string;
  readonly version: string;
  readonly idf_version: string;
  readonly secure_version: number | null;
  readonly min_chip_rev_full: number | null;
  readonly max_chip_rev_full: number | null;
}

const imageSummary = (a: AppDescriptor): ImageSummary => ({
  project_name: a.projectName,
  version: a.version,
  idf_version: a.idfVersion,
  secure_version: a.secureVersion ?? null,
  min_chip_rev_full: a.minChipRevFull ?? null,
  max_chip_rev_full: a.maxChipRevFull ?? null,
});

export interface IngestServiceDeps {
  readonly s3: S3Client;
  readonly catalog: CatalogStore;
  readonly ingestBucket: string;
  readonly firmwareBucket: string;
  readonly logger: Logger;
  /** Assigns an accepted build to devices named in `assign_to` (IoTaaP uploads); absent = such manifests are rejected. */
  readonly assign?: (fw: Firmware, deviceIds: readonly string[]) => Promise<string[]>;
  readonly now?: () => Date;
}

const reject = (code: string, reason: string): never => {
  throw new DomainError('invalid', code, reason);
};

interface ScannedFile {
  readonly role: FileRole;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly crc32: string;
  readonly etag?: string;
  readonly head: Uint8Array;
  /** The whole app image (validated as the bootloader will); absent for other roles. */
  readonly bytes?: Buffer;
}

export class IngestService {
  constructor(private readonly deps: IngestServiceDeps) {}

  /** Processes one manifest object; writes and returns the result. Throws only on infrastructure faults (so Lambda retries). */
  async ingest(manifestKey: string, manifestVersionId?: string): Promise<IngestResult> {
    const prefix = manifestKey.slice(0, manifestKey.length - MANIFEST_NAME.length);
    let manifest: IngestManifest | undefined;
    let result: IngestResult;
    try {
      manifest = await this.readManifest(manifestKey, manifestVersionId);
      result = await this.accept(manifest, prefix, manifestKey);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      result = {
        status: 'rejected',
        code: e.code,
        reason: e.message,
        ...(manifest ? { product: manifest.product, version: manifest.version } : {}),
      };
      this.deps.logger.warn('upload rejected', { manifestKey, code: e.code, reason: e.message });
    }
    await this.deps.s3.send(
      new PutObjectCommand({
        Bucket: this.deps.ingestBucket,
        Key: `${prefix}${RESULT_NAME}`,
        Body: JSON.stringify(result, null, 2),
        ContentType: 'application/json',
      }),
    );
    countIngest(result.product ?? manifest?.product ?? 'unknown', result.status === 'accepted', result.status === 'rejected' ? result.code : undefined);
    if (result.status === 'accepted') {
      this.deps.logger.info('upload accepted', { manifestKey, build: result.build_number, duplicate: result.duplicate });
    }
    return result;
  }

  private async readManifest(key: string, versionId?: string): Promise<IngestManifest> {
    const obj = await this.getObject(key, versionId);
    if (!obj) return reject('missing_manifest', `${key} no longer exists`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of obj.body) {
      size += chunk.length;
      if (size > MAX_MANIFEST_BYTES) return reject('manifest_too_large', `manifest.json exceeds ${MAX_MANIFEST_BYTES} bytes`);
      chunks.push(Buffer.from(chunk));
    }
    return parseIngestManifest(Buffer.concat(chunks).toString('utf8'));
  }

  private async accept(m: IngestManifest, prefix: string, manifestKey: string): Promise<IngestResult> {
    const { catalog } = this.deps;
    if (prefix !== `${m.product}/${m.version}/`) {
      reject('path_mismatch', `manifest says ${m.product}/${m.version}/ but was uploaded to ${prefix}`);
    }
    const product = await catalog.getProduct(m.product);
    if (!product) return reject('unknown_product', `Product ${m.product} does not exist; create it first`);
    if (m.assign_to && !this.deps.assign) reject('assignments_unavailable', 'This pipeline cannot assign builds to devices');
    const firmwareType = m.firmware_type ?? product.firmwareType;
    if (!firmwareType) return reject('missing_firmware_type', 'manifest has no firmware_type and the product has no default');

    const classes = classifyFiles(m.files.map((f) => f.name));
    const offered: { role: FileRole; name: string }[] = [
      { role: 'app', name: classes.app },
      ...(classes.ui ? [{ role: 'ui' as const, name: classes.ui }] : []),
      ...(classes.ufw ? [{ role: 'ufw' as const, name: classes.ufw }] : []),
    ];
    const scanned: ScannedFile[] = [];
    const maxImageSize = product.maxImageSize ?? DEFAULT_MAX_IMAGE_SIZE;
    for (const f of offered) scanned.push(await this.scan(prefix, f.role, f.name, m.files.find((x) => x.name === f.name)?.sha256, maxImageSize));

    const app = scanned.find((f) => f.role === 'app')!;
    const structure = checkImageStructure(app.bytes!, { maxSize: maxImageSize, sha256: (d) => createHash('sha256').update(d).digest() });
    if (!structure.ok) reject(structure.code, structure.reason);
    const image = parseEspAppImage(app.head);
    const check = validateAppImage(image, { chip: product.chip, version: m.app_version_check === false ? undefined : m.version });
    if (!check.ok) reject(check.code, check.reason);

    const digest = contentDigest(scanned);
    const { build, duplicate } = await this.claimVersion(m.product, m.version, digest, manifestKey);

    const files: FirmwareFile[] = [];
    for (const f of scanned) {
      const key = firmwareObjectKey(m.product, build, f.role);
      await this.deps.s3.send(
        new CopyObjectCommand({
          Bucket: this.deps.firmwareBucket,
          Key: key,
          CopySource: `${this.deps.ingestBucket}/${prefix}${f.name}`.split('/').map(encodeURIComponent).join('/'),
          // The bytes we hashed, not whatever CI may have overwritten since.
          ...(f.etag ? { CopySourceIfMatch: f.etag } : {}),
          MetadataDirective: 'REPLACE',
          ContentType: 'application/octet-stream',
          Metadata: { sha256: f.sha256, crc32: f.crc32, build: String(build) },
        }),
      );
      files.push({ role: f.role, name: f.name, key, size: f.size, sha256: f.sha256, crc32: f.crc32 });
    }

    const appDescriptor: AppDescriptor = image.app;
    // esptool appends the image SHA-256 when header byte 23 is set: what a running sketch reports as its hash.
    const imageHash = structure.ok ? structure.appendedHash : undefined;
    const state = m.release || m.assign_to ? 'RELEASED' : 'DRAFT';
    const compatibility =
      m.hw_revision_min !== undefined || m.hw_revision_max !== undefined || m.min_version !== undefined || m.required_step
        ? {
            ...(m.hw_revision_min !== undefined ? { hwRevisionMin: m.hw_revision_min } : {}),
            ...(m.hw_revision_max !== undefined ? { hwRevisionMax: m.hw_revision_max } : {}),
            ...(m.min_version !== undefined ? { minVersion: m.min_version } : {}),
            ...(m.required_step ? { requiredStep: true } : {}),
          }
        : undefined;
    const now = (this.deps.now?.() ?? new Date()).toISOString();
    const record: Firmware = {
      productId: m.product,
      build,
      version: m.version,
      state,
      firmwareType,
      ...(m.channel ? { channel: m.channel } : {}),
      files,
      app: appDescriptor,
      ...(m.notes ? { notes: m.notes } : {}),
      ...(m.boards ? { boards: m.boards } : {}),
      ...(m.force ? { force: true } : {}),
      ...(imageHash ? { imageHash } : {}),
      ...(compatibility ? { compatibility } : {}),
      source: manifestKey,
      contentDigest: digest,
      createdAt: now,
      ...(state === 'RELEASED' ? { releasedAt: now } : {}),
    };
    const written = await catalog.putFirmware(record);
    const stored = written ? record : ((await catalog.getFirmware(m.product, build, true)) ?? record);
    // Re-running for a duplicate event re-assigns idempotently (same build → same open assignment kept).
    const assigned = m.assign_to ? await this.deps.assign!(stored, m.assign_to) : undefined;
    return {
      status: 'accepted',
      product: m.product,
      version: m.version,
      build_number: build,
      state: stored.state,
      files: files.map(({ role, name, size, sha256, crc32 }) => ({ role, name, size, sha256, crc32 })),
      excluded: classes.excluded,
      app: imageSummary(stored.app),
      ...(assigned ? { assigned_to: assigned } : {}),
      duplicate: duplicate || !written,
    };
  }

  /**
   * First upload of a version wins. The same bytes again (a duplicated event, a CI retry) get the
   * same build number back; different bytes are rejected as `version_exists`.
   */
  private async claimVersion(productId: string, version: string, digest: string, source: string) {
    const { catalog } = this.deps;
    const existing = await catalog.getVersionLock(productId, version);
    if (existing) return this.sameBytesOrReject(existing, digest, version);
    const build = await catalog.allocateBuildNumber(productId);
    const now = (this.deps.now?.() ?? new Date()).toISOString();
    if (await catalog.putVersionLock({ productId, version, build, contentDigest: digest, source, createdAt: now })) {
      return { build, duplicate: false };
    }
    // Lost a race with a concurrent delivery of the same (or another) upload; `build` stays a gap.
    const winner = await catalog.getVersionLock(productId, version);
    if (!winner) throw new Error(`Version lock ${productId}/${version} vanished`);
    return this.sameBytesOrReject(winner, digest, version);
  }

  private sameBytesOrReject(lock: { build: number; contentDigest: string }, digest: string, version: string) {
    if (lock.contentDigest !== digest) {
      return reject('version_exists', `Version ${version} already exists as build ${lock.build} with different content`);
    }
    return { build: lock.build, duplicate: true };
  }

  private async scan(prefix: string, role: FileRole, name: string, expectedSha256: string | undefined, maxImageSize: number): Promise<ScannedFile> {
    const obj = await this.getObject(`${prefix}${name}`);
    if (!obj) return reject('missing_file', `${name} is listed in manifest.json but was not uploaded`);
    let bytes: Buffer | undefined;
    if (role === 'app') {
      // The whole image is checked (segments, checksum, appended hash); the size cap bounds memory.
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of obj.body) {
        size += chunk.length;
        if (size > maxImageSize) return reject('image_too_large', `${name} exceeds ${maxImageSize} bytes, the largest app image this product allows`);
        chunks.push(Buffer.from(chunk));
      }
      bytes = Buffer.concat(chunks);
    }
    const whole = bytes;
    const d = await digestStream(whole ? (async function* () { yield whole; })() : obj.body, role === 'app' ? 512 : 0);
    if (d.size === 0) reject('empty_file', `${name} is empty`);
    if (expectedSha256 && expectedSha256.toLowerCase() !== d.sha256) {
      reject('sha256_mismatch', `${name}: manifest says sha256 ${expectedSha256.toLowerCase()}, uploaded bytes hash to ${d.sha256}`);
    }
    return { role, name, size: d.size, sha256: d.sha256, crc32: d.crc32, head: d.head, ...(bytes ? { bytes } : {}), ...(obj.etag ? { etag: obj.etag } : {}) };
  }

  private async getObject(key: string, versionId?: string): Promise<{ body: AsyncIterable<Uint8Array>; etag?: string } | undefined> {
    try {
      const r = await this.deps.s3.send(
        new GetObjectCommand({ Bucket: this.deps.ingestBucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
      );
      return { body: r.Body as unknown as AsyncIterable<Uint8Array>, ...(r.ETag ? { etag: r.ETag } : {}) };
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion') return undefined;
      throw e;
    }
  }
}
