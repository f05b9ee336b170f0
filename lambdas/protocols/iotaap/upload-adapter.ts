/**
 * IoTaaP `POST /v1/ota/device` (multipart: firmware, device, token, version — all required):
 * hands the bytes to the normal ingest pipeline (ingest bucket, manifest.json last, `assign_to`
 * the device) and waits for its verdict, so the operator learns the real outcome:
 * 201 `{ message: "Firmware successfully deployed" }`, 400 `{ message }` for a missing field,
 * an invalid device id, no file, a file over the limit or a rejected image, 404 `{ message:
 * "No such device" }` for an unknown device or wrong token.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEVICE_ID_PATTERN } from '../../core/device-id';
import { isDomainError } from '../../core/errors';
import { secretMatches } from '../../core/security';
import { parseVersion } from '../../core/version';
import { header, json, rawBody } from '../../shared/http';
import type { Logger } from '../../shared/logger';
import type { Implementations } from '../../shared/operations';
import type { DeviceStore } from '../../shared/store/device-store';
import type { iotaapUploadFirmware } from './contract';
import { multipartBoundary, parseMultipart } from './multipart';
import { IOTAAP_MAX_FIRMWARE_BYTES } from './wire';

export interface IotaapUploadDeps {
  readonly s3: S3Client;
  readonly ingestBucket: string;
  readonly devices: DeviceStore;
  readonly logger: Logger;
  /** How long to wait for the pipeline's result.json. */
  readonly resultTimeoutMs?: number;
}

const SEMVER = /^\d+\.\d+\.\d+$/;
/** Written to result.json before the manifest, so only the pipeline's verdict on this upload ends the wait. */
const PENDING_RESULT = { status: 'pending', note: 'IoTaaP upload in progress; the ingest pipeline overwrites this' };
const message = (status: number, text: string) => json(status, { message: text });
const uploadError = (error: string) => json(500, { message: 'Error when uploading firmware file', error }, { 'retry-after': '30' });

export function iotaapUploadRoutes(deps: IotaapUploadDeps): Implementations<typeof iotaapUploadFirmware> {
  async function waitForResult(key: string, sha: string, deviceId: string): Promise<{ status: string; reason?: string; code?: string } | undefined> {
    const deadline = Date.now() + (deps.resultTimeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      try {
        const r = await deps.s3.send(new GetObjectCommand({ Bucket: deps.ingestBucket, Key: key }));
        const result = JSON.parse(await r.Body!.transformToString());
        // A result.json left by an earlier upload of this version does not count (our PENDING marker
        // replaced it before the manifest went in): a rejection is ours, and an acceptance must
        // describe these bytes and have assigned them to this device (the same bytes uploaded
        // earlier for another device leave an accepted result.json without it).
        if (result.status === 'rejected') return result;
        if (result.status === 'accepted' && result.files?.some((f: { sha256: string }) => f.sha256 === sha) && result.assigned_to?.includes(deviceId))
          return result;
      } catch (e) {
        const name = (e as { name?: string }).name;
        if (name !== 'NoSuchKey' && name !== 'NotFound') throw e;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return undefined;
  }

  return {
    iotaapUploadFirmware: {
      async handle({ event }) {
        const parts = parseMultipart(rawBody(event), multipartBoundary(header(event, 'content-type')));
        const field = (name: string) =>
          parts
            .find((p) => p.name === name && p.filename === undefined)
            ?.data.toString('utf8')
            .trim();
        for (const name of ['device', 'token', 'version']) if (!field(name)) return message(400, `${name} is a mandatory field`);
        const file = parts.find((p) => p.name === 'firmware' && p.filename !== undefined);
        if (!file || file.data.length === 0) return message(400, 'No file uploaded');
        if (file.data.length > IOTAAP_MAX_FIRMWARE_BYTES) {
          return message(
            400,
            `Firmware file exceeds ${IOTAAP_MAX_FIRMWARE_BYTES} bytes (API Gateway/Lambda payload limits); publish it through the ingest bucket instead`,
          );
        }
        const deviceId = field('device')!;
        if (!DEVICE_ID_PATTERN.test(deviceId)) return message(400, 'Device ID is not valid');
        const version = field('version')!;
        if (!SEMVER.test(version) || !parseVersion(version)) return message(400, 'version must be a semantic version, e.g. 1.5.7');

        const found = await deps.devices.findByGlobalId(deviceId);
        const device = found.length === 1 ? found[0] : undefined;
        if (!device || !secretMatches(field('token'), device.tokenHash)) return message(404, 'No such device');

        const prefix = `${device.productId}/${version}/`;
        const sha = createHash('sha256').update(file.data).digest('hex');
        await deps.s3.send(
          new PutObjectCommand({ Bucket: deps.ingestBucket, Key: `${prefix}firmware.bin`, Body: file.data, ContentType: 'application/octet-stream' }),
        );
        const manifest = {
          product: device.productId,
          version,
          files: [{ name: 'firmware.bin', sha256: sha }],
          assign_to: [device.deviceId],
          notes: `IoTaaP upload for ${device.deviceId}`,
        };
        // A result.json left by an earlier upload of this version (e.g. a rejected image) must not be
        // read as this upload's verdict before the pipeline has run. Mark the result pending first
        // (PutObject: the function may not delete from the ingest bucket); the pipeline overwrites it.
        await deps.s3.send(
          new PutObjectCommand({
            Bucket: deps.ingestBucket,
            Key: `${prefix}result.json`,
            Body: JSON.stringify(PENDING_RESULT),
            ContentType: 'application/json',
          }),
        );
        await deps.s3.send(
          new PutObjectCommand({ Bucket: deps.ingestBucket, Key: `${prefix}manifest.json`, Body: JSON.stringify(manifest), ContentType: 'application/json' }),
        );

        const result = await waitForResult(`${prefix}result.json`, sha, device.deviceId);
        if (!result) return uploadError('The upload is still being processed; retrying is safe');
        if (result.status === 'rejected') return message(400, result.reason ?? 'Firmware rejected');
        deps.logger.info('iotaap firmware deployed', { deviceId: device.deviceId, productId: device.productId, version });
        return json(201, { message: 'Firmware successfully deployed' });
      },
      onError: (e) => (isDomainError(e) ? message(400, e.message) : uploadError((e as Error).message ?? 'unknown error')),
    },
  };
}
