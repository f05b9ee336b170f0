/**
 * Ingest of one CI release folder `<productId>/<version>/` whose `manifest.json` landed (or one of
 * whose files landed while the manifest was waiting for it).
 *
 * Validate everything first (manifest, file classification, presence of every listed file, one
 * streaming pass per file for size + sha256 + CRC32 + MD5 + the whole ESP image), then claim the
 * version (conditional put: first upload wins) with a build number from the atomic counter, copy
 * exactly the scanned bytes to immutable keys (`CopySourceIfMatch` = the scanned ETag, the
 * scanned VersionId when the bucket returned one; the copy's ETag must be the scanned MD5) and
 * write the record. A failure after the claim releases it: the version lock is deleted and the
 * build number handed back when no later one was allocated, so a number is only kept by a build
 * that is recorded. Every step is idempotent, so a duplicated or retried S3 event yields the same
 * single build.
 *
 * Every run ends in `result.json` beside the manifest: `accepted`, `rejected` (final, with a
 * reason code; objects kept, the ingest bucket is versioned), `pending` (listed files not
 * uploaded yet: CI tools such as `aws s3 sync` upload in any order; re-evaluated when one of
 * them lands, `missing_file` once the upload window has passed) or `error` (an unexpected fault;
 * the event is retried, then dead-lettered, and the verdict says so).
 */
import { createHash } from 'node:crypto';
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { releaseWarnings } from '../core/anti-rollback';
import { contentDigest, digestStream } from '../core/checksum';
import { firmwareObjectKey } from '../core/download-url';
import { DomainError, isDomainError } from '../core/errors';
import { checkImageStructure, DEFAULT_MAX_IMAGE_SIZE, ESP_IMAGE_HEAD_BYTES, parseEspAppImage, validateAppImage } from '../core/esp-image';
import { classifyFiles, INGEST_TRIGGER_SUFFIXES, parseIngestManifest, type IngestManifest } from '../core/manifest';
import type { AppDescriptor, DetachedSignature, FileRole, Firmware, FirmwareFile, Product, SignatureVerification } from '../core/model';
import { createSignatureScan, judgeSignature } from '../core/signing';
import type { Logger } from './logger';
import { countIngest } from './metrics';
import type { PlatformSigner } from './platform-signer';
import type { CatalogStore } from './store/catalog-store';
import type { SigningKeyStorePort } from './store/ports';

export const MANIFEST_NAME = 'manifest.json';
export const RESULT_NAME = 'result.json';
const MAX_MANIFEST_BYTES = 64 * 1024;
/** How long a manifest waits for the files it lists (CI may upload them after it). */
export const DEFAULT_UPLOAD_WINDOW_MS = 15 * 60 * 1000;
export { INGEST_TRIGGER_SUFFIXES };

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
      /** How the signature was verified; `form: 'none'`: unsigned, accepted because the product's signing is `optional` or `off`. */
      readonly signature: { readonly form: SignatureVerification['form'] | 'none'; readonly key_ids: readonly string[]; readonly platform_signed: boolean };
      /** What the operator must know (a released build that raises secure_version). */
      readonly warnings: readonly string[];
      readonly duplicate: boolean;
    }
  | { readonly status: 'rejected'; readonly code: string; readonly reason: string; readonly product?: string; readonly version?: string }
  | {
      /** Not final: waiting for listed files until `deadline`, re-evaluated when one lands. */
      readonly status: 'pending';
      readonly code: 'waiting_for_files';
      readonly reason: string;
      readonly product: string;
      readonly version: string;
      readonly missing: readonly string[];
      readonly deadline: string;
    }
  | {
      /** An unexpected fault (not the upload's fault): the event is retried, then dead-lettered. */
      readonly status: 'error';
      readonly code: 'internal_error';
      readonly reason: string;
      readonly product?: string;
      readonly version?: string;
      readonly retrying: true;
    };

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
  /** How long a manifest waits for files it lists but that are not uploaded yet (default 15 min). */
  readonly uploadWindowMs?: number;
  /** How long to wait for another ingest's claim on the same version to be recorded or released (default 30 s). */
  readonly claimWaitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The product's trusted signing keys (signature verification). */
  readonly keys: Pick<SigningKeyStorePort, 'list'>;
  /** Signs accepted builds of products with platform signing; absent: such products' uploads are rejected. */
  readonly platformSigner?: Pick<PlatformSigner, 'sign'>;
}

/** The signature verdict of an accepted upload: where its image starts, and what is recorded on the build. */
interface SignatureOutcome {
  readonly imageOffset: number;
  readonly verification?: SignatureVerification;
  readonly detached?: DetachedSignature;
}

/** A version claim (build 0) older than this is left by a crashed run (the function's timeout is 5 minutes). */
const STALE_CLAIM_MS = 10 * 60 * 1000;

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
  readonly versionId?: string;
  /** MD5 of the scanned bytes (hex): the ETag S3 gives an exact single-part copy of them. */
  readonly md5: string;
  readonly head: Uint8Array;
  /** The whole app image (validated as the bootloader will); absent for other roles. */
  readonly bytes?: Buffer;
}

export class IngestService {
  constructor(private readonly deps: IngestServiceDeps) {}

  /**
   * Processes one manifest object; writes and returns the result. Unexpected faults are recorded
   * as an `error` verdict and rethrown (so Lambda retries; the dead-letter queue keeps what still fails).
   */
  async ingest(manifestKey: string, manifestVersionId?: string): Promise<IngestResult> {
    const prefix = manifestKey.slice(0, manifestKey.length - MANIFEST_NAME.length);
    let manifest: IngestManifest | undefined;
    let judged: { sha256: string; etag?: string } | undefined;
    let result: IngestResult;
    try {
      const read = await this.readManifest(manifestKey, manifestVersionId);
      manifest = read.manifest;
      judged = { sha256: read.sha256, ...(read.etag ? { etag: read.etag } : {}) };
      result = await this.accept(manifest, prefix, manifestKey, read.lastModified);
    } catch (e) {
      judged ??= (e as { judged?: { sha256: string; etag?: string } }).judged;
      if (!isDomainError(e)) {
        const failed: IngestResult = {
          status: 'error',
          code: 'internal_error',
          reason: `The ingest failed unexpectedly (${(e as Error).name}: ${(e as Error).message}); it is retried, then dead-lettered`,
          ...(manifest ? { product: manifest.product, version: manifest.version } : {}),
          retrying: true,
        };
        this.deps.logger.error('ingest failed', { manifestKey, error: (e as Error).message });
        await this.writeResult(prefix, failed, manifestKey, judged).catch(() => undefined);
        throw e;
      }
      result = {
        status: 'rejected',
        code: e.code,
        reason: e.message,
        ...(manifest ? { product: manifest.product, version: manifest.version } : {}),
      };
      this.deps.logger.warn('upload rejected', { manifestKey, code: e.code, reason: e.message });
    }
    await this.writeResult(prefix, result, manifestKey, judged);
    if (result.status === 'pending') {
      this.deps.logger.info('upload waiting for files', { manifestKey, missing: result.missing, deadline: result.deadline });
      // A file that landed while we were looking found no pending verdict to wake: look once more.
      if (manifest && (await this.anyPresent(prefix, result.missing))) return this.ingest(manifestKey);
      return result;
    }
    countIngest(result.product ?? manifest?.product ?? 'unknown', result.status === 'accepted', result.status === 'rejected' ? result.code : undefined);
    if (result.status === 'accepted') {
      this.deps.logger.info('upload accepted', { manifestKey, build: result.build_number, duplicate: result.duplicate });
    }
    return result;
  }

  /**
   * A file of a release folder landed: if the folder's manifest is waiting for files, evaluate it
   * again (with the latest manifest). Otherwise nothing: a manifest's own event judges it.
   */
  async fileArrived(fileKey: string): Promise<IngestResult | undefined> {
    const slash = fileKey.lastIndexOf('/');
    if (slash < 0) return undefined;
    const prefix = fileKey.slice(0, slash + 1);
    // The verdict's status travels in result.json's metadata, so this needs no body read.
    let meta: Record<string, string> | undefined;
    try {
      meta = (await this.deps.s3.send(new HeadObjectCommand({ Bucket: this.deps.ingestBucket, Key: `${prefix}${RESULT_NAME}` }))).Metadata;
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 || (e as { name?: string }).name === 'NotFound')
        return undefined;
      throw e;
    }
    if (meta?.status !== 'pending' || meta.code !== 'waiting_for_files') return undefined;
    return this.ingest(`${prefix}${MANIFEST_NAME}`);
  }

  /**
   * Writes the verdict, stamped with the sha256 of the manifest it judged (so an uploader can tell
   * its verdict from a concurrent upload's) — unless that manifest has been replaced meanwhile:
   * then the newer manifest's own event owns result.json.
   */
  private async writeResult(prefix: string, result: IngestResult, manifestKey: string, judged?: { sha256: string; etag?: string }): Promise<void> {
    if (judged?.etag) {
      const current = await this.headEtag(manifestKey);
      if (current !== undefined && current !== judged.etag) {
        this.deps.logger.info('verdict not written: manifest.json was replaced meanwhile', { manifestKey, status: result.status });
        return;
      }
    }
    await this.deps.s3.send(
      new PutObjectCommand({
        Bucket: this.deps.ingestBucket,
        Key: `${prefix}${RESULT_NAME}`,
        Body: JSON.stringify(judged ? { ...result, manifest_sha256: judged.sha256 } : result, null, 2),
        Metadata: { status: result.status, ...('code' in result ? { code: result.code } : {}) },
        ContentType: 'application/json',
      }),
    );
  }

  private async anyPresent(prefix: string, names: readonly string[]): Promise<boolean> {
    for (const n of names) if (await this.exists(`${prefix}${n}`)) return true;
    return false;
  }

  private async readManifest(key: string, versionId?: string): Promise<{ manifest: IngestManifest; sha256: string; etag?: string; lastModified?: Date }> {
    const obj = await this.getObject(key, versionId);
    if (!obj) return reject('missing_manifest', `${key} no longer exists`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of obj.body) {
      size += chunk.length;
      if (size > MAX_MANIFEST_BYTES) return reject('manifest_too_large', `manifest.json exceeds ${MAX_MANIFEST_BYTES} bytes`);
      chunks.push(Buffer.from(chunk));
    }
    const text = Buffer.concat(chunks);
    // A manifest that is not even valid still gets a verdict its uploader can recognise.
    const stamp = { sha256: createHash('sha256').update(text).digest('hex'), ...(obj.etag ? { etag: obj.etag } : {}) };
    try {
      return { manifest: parseIngestManifest(text.toString('utf8')), ...stamp, ...(obj.lastModified ? { lastModified: obj.lastModified } : {}) };
    } catch (e) {
      throw Object.assign(e as Error, { judged: stamp });
    }
  }

  private async accept(m: IngestManifest, prefix: string, manifestKey: string, manifestLastModified?: Date): Promise<IngestResult> {
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
    // CI may upload the manifest before the files (aws s3 sync): wait for them, within a window.
    const missing: string[] = [];
    for (const f of offered) if (!(await this.exists(`${prefix}${f.name}`))) missing.push(f.name);
    if (missing.length) {
      const nowMs = (this.deps.now?.() ?? new Date()).getTime();
      const deadline = (manifestLastModified?.getTime() ?? nowMs) + (this.deps.uploadWindowMs ?? DEFAULT_UPLOAD_WINDOW_MS);
      const list = missing.join(', ');
      if (nowMs >= deadline) {
        return reject(
          'missing_file',
          `${list} ${missing.length > 1 ? 'are' : 'is'} listed in manifest.json but ${missing.length > 1 ? 'were' : 'was'} not uploaded within the upload window (until ${new Date(deadline).toISOString()})`,
        );
      }
      return {
        status: 'pending',
        code: 'waiting_for_files',
        reason: `waiting for ${list} (listed in manifest.json, not uploaded yet) until ${new Date(deadline).toISOString()}`,
        product: m.product,
        version: m.version,
        missing,
        deadline: new Date(deadline).toISOString(),
      };
    }

    const scanned: ScannedFile[] = [];
    const maxImageSize = product.maxImageSize ?? DEFAULT_MAX_IMAGE_SIZE;
    for (const f of offered) scanned.push(await this.scan(prefix, f.role, f.name, m.files.find((x) => x.name === f.name)?.sha256, maxImageSize));

    const app = scanned.find((f) => f.role === 'app')!;
    for (const f of m.files) {
      if (f.signature && f.name !== app.name) reject('malformed_signature', `${f.name}: signatures are verified on the app image only`);
    }
    const signature = await this.verifySignature(
      product,
      app,
      m.files.find((x) => x.name === app.name),
    );
    // Behind an esp32FOTA signature the image starts at byte 512: that is what the device writes and boots.
    const imageBytes = app.bytes!.subarray(signature.imageOffset);
    const structure = checkImageStructure(imageBytes, { maxSize: maxImageSize, sha256: (d) => createHash('sha256').update(d).digest() });
    if (!structure.ok) reject(structure.code, structure.reason);
    const image = parseEspAppImage(imageBytes.subarray(0, ESP_IMAGE_HEAD_BYTES));
    const check = validateAppImage(image, { chip: product.chip, version: m.app_version_check === false ? undefined : m.version });
    if (!check.ok) reject(check.code, check.reason);

    const digest = contentDigest(scanned);
    const claim = await this.claimVersion(m.product, m.version, digest, manifestKey);
    const { build } = claim;
    try {
      return await this.copyAndRecord(
        m,
        prefix,
        manifestKey,
        scanned,
        build,
        digest,
        claim.duplicate,
        firmwareType,
        image,
        structure,
        classes.excluded,
        signature,
      );
    } catch (e) {
      // Our own fresh claim: hand the version and the number back, so neither is burned by a build never recorded.
      if (!claim.duplicate) await this.releaseClaim(m.product, m.version, build, digest);
      throw e;
    }
  }

  /**
   * Verifies the app file's signature under the product's policy (throws the rejection code) and,
   * for platform-signing products, signs it with the platform key. Before the claim: a rejected
   * upload burns no build number.
   */
  private async verifySignature(product: Product, app: ScannedFile, listed: IngestManifest['files'][number] | undefined): Promise<SignatureOutcome> {
    const policy = product.signing ?? 'off';
    const bytes = app.bytes!;
    const now = (this.deps.now?.() ?? new Date()).toISOString();
    const given = listed?.signature && listed.key_id ? { signature: listed.signature, keyId: listed.key_id } : undefined;
    const keys = policy !== 'off' || product.platformSigning ? await this.deps.keys.list(product.productId) : [];
    let verification: SignatureVerification | undefined;
    let detached: DetachedSignature | undefined;
    let imageOffset = 0;
    if (policy !== 'off') {
      const scan = createSignatureScan({
        size: bytes.length,
        keys: keys.map((k) => ({ keyId: k.keyId, algorithm: k.algorithm, publicKeyPem: k.publicKeyPem, revoked: k.state === 'revoked' })),
        ...(given ? { detached: given } : {}),
      });
      scan.update(bytes);
      const verdict = judgeSignature(scan.finish(), { policy, chip: product.chip });
      if (!verdict.ok) return reject(verdict.code, verdict.reason);
      const v = verdict.verification;
      imageOffset = v.imageOffset;
      if (v.form !== 'none') verification = { form: v.form, keyIds: v.keyIds, algorithm: v.algorithm!, imageOffset, verifiedAt: now };
      // Every form present passed: a detached signature given beside an embedded one is handed to devices too.
      if (given) detached = { signature: given.signature, algorithm: 'ecdsa-p256-sha256', keyId: given.keyId };
    }
    if (product.platformSigning) {
      const key = keys.find((k) => k.origin === 'platform' && k.state === 'active');
      if (!key || !this.deps.platformSigner) {
        return reject(
          'platform_signing_unavailable',
          `Product ${product.productId} has platform signing on, but ${key ? 'this pipeline has no signing key' : 'no active platform key is registered'}`,
        );
      }
      // Over the exact file devices download (its SHA-256 is the one recorded and handed out).
      const der = await this.deps.platformSigner.sign({ digest: Buffer.from(app.sha256, 'hex'), bytes });
      detached = { signature: der.toString('base64'), algorithm: 'ecdsa-p256-sha256', keyId: key.keyId };
      verification = verification
        ? { ...verification, keyIds: [...verification.keyIds, key.keyId] }
        : { form: 'detached', keyIds: [key.keyId], algorithm: 'ecdsa-p256', imageOffset, platform: true, verifiedAt: now };
    }
    return { imageOffset, ...(verification ? { verification } : {}), ...(detached ? { detached } : {}) };
  }

  private async releaseClaim(productId: string, version: string, build: number, digest: string): Promise<void> {
    const { catalog, logger } = this.deps;
    try {
      if (build > 0 && (await catalog.getFirmware(productId, build, true))) return; // recorded after all (a concurrent duplicate delivery)
      const lockReleased = await catalog.deleteVersionLock(productId, version, build, digest);
      const numberReturned = build > 0 && (await catalog.releaseBuildNumber(productId, build));
      logger.warn('ingest claim released', { productId, version, build, lockReleased, numberReturned });
    } catch (e) {
      logger.error('ingest claim release failed', { productId, version, build, error: (e as Error).message });
    }
  }

  private async copyAndRecord(
    m: IngestManifest,
    prefix: string,
    manifestKey: string,
    scanned: readonly ScannedFile[],
    build: number,
    digest: string,
    duplicate: boolean,
    firmwareType: string,
    image: ReturnType<typeof parseEspAppImage>,
    structure: ReturnType<typeof checkImageStructure>,
    excluded: readonly string[],
    signature: SignatureOutcome,
  ): Promise<IngestResult> {
    const { catalog } = this.deps;
    const files: FirmwareFile[] = [];
    for (const f of scanned) {
      const key = firmwareObjectKey(m.product, build, f.role);
      await this.copyScanned(prefix, f, key, build);
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
      ...(signature.verification ? { signature: signature.verification } : {}),
      ...(signature.detached ? { detachedSignature: signature.detached } : {}),
      source: manifestKey,
      contentDigest: digest,
      createdAt: now,
      ...(state === 'RELEASED' ? { releasedAt: now } : {}),
    };
    const written = await catalog.putFirmware(record);
    const stored = written ? record : ((await catalog.getFirmware(m.product, build, true)) ?? record);
    // Re-running for a duplicate event re-assigns idempotently (same build → same open assignment kept).
    const assigned = m.assign_to ? await this.deps.assign!(stored, m.assign_to) : undefined;
    const warnings = stored.state === 'RELEASED' ? releaseWarnings(stored, await catalog.listFirmwareInStates(m.product, ['RELEASED', 'REVOKED'])) : [];
    return {
      status: 'accepted',
      product: m.product,
      version: m.version,
      build_number: build,
      state: stored.state,
      files: files.map(({ role, name, size, sha256, crc32 }) => ({ role, name, size, sha256, crc32 })),
      excluded,
      app: imageSummary(stored.app),
      ...(assigned ? { assigned_to: assigned } : {}),
      signature: {
        form: stored.signature?.form ?? 'none',
        key_ids: stored.signature?.keyIds ?? [],
        platform_signed: Boolean(stored.signature?.platform),
      },
      warnings,
      duplicate: duplicate || !written,
    };
  }

  /**
   * Copies exactly the bytes that were scanned: `CopySourceIfMatch` with their ETag (and their
   * VersionId when the bucket is versioned), then checks the copy's ETag against their MD5. A
   * source that changed since (CI re-uploading the version concurrently) is `source_changed`.
   */
  private async copyScanned(prefix: string, f: ScannedFile, key: string, build: number): Promise<void> {
    const source = `${this.deps.ingestBucket}/${prefix}${f.name}`.split('/').map(encodeURIComponent).join('/');
    let etag: string | undefined;
    try {
      const r = await this.deps.s3.send(
        new CopyObjectCommand({
          Bucket: this.deps.firmwareBucket,
          Key: key,
          CopySource: f.versionId ? `${source}?versionId=${encodeURIComponent(f.versionId)}` : source,
          // The bytes we hashed, not whatever CI may have overwritten since.
          ...(f.etag ? { CopySourceIfMatch: f.etag } : {}),
          MetadataDirective: 'REPLACE',
          ContentType: 'application/octet-stream',
          Metadata: { sha256: f.sha256, crc32: f.crc32, build: String(build) },
        }),
      );
      etag = r.CopyObjectResult?.ETag;
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'PreconditionFailed' || err.$metadata?.httpStatusCode === 412 || err.name === 'NoSuchKey') {
        return reject('source_changed', `${f.name} was replaced or removed while it was being ingested; its newer upload is judged by its own event`);
      }
      throw e;
    }
    const copied = etag?.replace(/"/g, '').toLowerCase();
    // An SSE-S3 single-part copy's ETag is the MD5 of its bytes.
    if (copied !== undefined && /^[0-9a-f]{32}$/.test(copied) && copied !== f.md5) {
      return reject(
        'source_changed',
        `${f.name}: the copied bytes (MD5 ${copied}) are not the ones scanned (MD5 ${f.md5}); its newer upload is judged by its own event`,
      );
    }
  }

  /**
   * First upload of a version wins. The same bytes again (a duplicated event, a CI retry) get the
   * same build number back; different bytes are rejected as `version_exists`.
   *
   * The version is claimed before a number is allocated (a lock with build 0), so a concurrent
   * delivery that loses the claim never allocates one. Whoever finds a claim still in progress
   * waits for it to be recorded or released (released: the version is free again, e.g. after
   * the claimer's copy found its source replaced); a claim older than any run of the function
   * can be is a crashed one and is taken over.
   */
  private async claimVersion(productId: string, version: string, digest: string, source: string): Promise<{ build: number; duplicate: boolean }> {
    const { catalog } = this.deps;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const waitUntil = Date.now() + (this.deps.claimWaitMs ?? 30_000);
    for (;;) {
      const lock = await catalog.getVersionLock(productId, version);
      if (lock && lock.build > 0) return this.sameBytesOrReject(lock, digest, version);
      const nowMs = (this.deps.now?.() ?? new Date()).getTime();
      if (lock) {
        if (nowMs - Date.parse(lock.createdAt) > STALE_CLAIM_MS) {
          await catalog.deleteVersionLock(productId, version, 0, lock.contentDigest);
          continue;
        }
        if (Date.now() >= waitUntil) throw new Error(`Version ${productId}/${version} is still being claimed by another ingest; retry`);
        await sleep(250);
        continue;
      }
      const createdAt = new Date(nowMs).toISOString();
      if (!(await catalog.putVersionLock({ productId, version, build: 0, contentDigest: digest, source, createdAt }))) continue;
      let build = 0;
      try {
        build = await catalog.allocateBuildNumber(productId);
        if (!(await catalog.setVersionLockBuild(productId, version, digest, build))) throw new Error(`Version claim ${productId}/${version} was lost`);
        return { build, duplicate: false };
      } catch (e) {
        await this.releaseClaim(productId, version, build, digest);
        throw e;
      }
    }
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
    const md5 = createHash('md5');
    const body = whole
      ? (async function* () {
          yield whole;
        })()
      : obj.body;
    const d = await digestStream(
      (async function* () {
        for await (const chunk of body) {
          md5.update(chunk);
          yield chunk;
        }
      })(),
      role === 'app' ? 512 : 0,
    );
    if (d.size === 0) reject('empty_file', `${name} is empty`);
    if (expectedSha256 && expectedSha256.toLowerCase() !== d.sha256) {
      reject('sha256_mismatch', `${name}: manifest says sha256 ${expectedSha256.toLowerCase()}, uploaded bytes hash to ${d.sha256}`);
    }
    return {
      role,
      name,
      size: d.size,
      sha256: d.sha256,
      crc32: d.crc32,
      md5: md5.digest('hex'),
      head: d.head,
      ...(bytes ? { bytes } : {}),
      ...(obj.etag ? { etag: obj.etag } : {}),
      ...(obj.versionId ? { versionId: obj.versionId } : {}),
    };
  }

  private async exists(key: string): Promise<boolean> {
    return (await this.headEtag(key)) !== undefined;
  }

  private async headEtag(key: string): Promise<string | undefined> {
    try {
      return (await this.deps.s3.send(new HeadObjectCommand({ Bucket: this.deps.ingestBucket, Key: key }))).ETag ?? '';
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw e;
    }
  }

  private async getObject(
    key: string,
    versionId?: string,
  ): Promise<{ body: AsyncIterable<Uint8Array>; etag?: string; versionId?: string; lastModified?: Date } | undefined> {
    try {
      const r = await this.deps.s3.send(new GetObjectCommand({ Bucket: this.deps.ingestBucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
      return {
        body: r.Body as unknown as AsyncIterable<Uint8Array>,
        ...(r.ETag ? { etag: r.ETag } : {}),
        ...(r.VersionId && r.VersionId !== 'null' ? { versionId: r.VersionId } : {}),
        ...(r.LastModified ? { lastModified: r.LastModified } : {}),
      };
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion') return undefined;
      throw e;
    }
  }
}
