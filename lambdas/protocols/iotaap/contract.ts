/** IoTaaP device routes and its operator routes. Pure: the contract entries of this protocol (see lambdas/contract/). */
import * as z from 'zod/mini';
import { operation } from '../../contract/operation';
import { str, count, timestamp, named, GatewayMessage, deviceIdParam } from '../../contract/schema';
import { DEVICE_ID_PATTERN } from '../../core/device-id';
import { TOKEN_LENGTH } from '../../core/security';

const deviceIdAndTokenParam = () =>
  z.string().check(z.regex(/^[\x21-\x7e]{1,128}$/), z.describe(`The device id immediately followed by its ${TOKEN_LENGTH}-character token (no separator)`));

/** lambdas/protocols/iotaap*.ts, lambdas/core/protocols/iotaap.ts and the IoTaaP list in lambdas/handlers/admin.ts. */
export const IotaapVersion = named('IotaapVersion', z.object({ ver: str().check(z.describe('Version the device should run')) }));
export const IotaapNoSuchDevice = named('IotaapNoSuchDevice', z.object({ message: z.literal('No such device'), error: str() }));
export const IotaapMessage = named('IotaapMessage', z.object({ message: str() }));
export const IotaapServerError = named('IotaapServerError', z.object({ message: str(), error: str() }));
export const IotaapOta = named(
  'IotaapOta',
  z.object({
    _id: str(),
    device: str(),
    __v: z.literal(0),
    last_updated: timestamp(),
    owner: str().check(z.describe('Product id')),
    path: str(),
    version: str(),
  }),
);
export const IotaapOtaList = named('IotaapOtaList', z.object({ otas: z.array(IotaapOta), recordsTotal: count(), recordsFiltered: count(), draw: str() }));
/** lambdas/protocols/iotaap-upload.ts (multipart fields, all required). */
export const IotaapUploadForm = named(
  'IotaapUploadForm',
  z.object({
    // A binary part in OpenAPI 3.1 terms (z.file() would emit 3.0's `format: binary`).
    firmware: z.string().check(z.describe('The application image (at most 4 MiB)'), z.meta({ contentMediaType: 'application/octet-stream' })),
    device: z.string().check(z.regex(DEVICE_ID_PATTERN)),
    token: z.string().check(z.describe("The device's token")),
    version: z.string().check(z.regex(/^\d+\.\d+\.\d+$/), z.describe('Semantic version, e.g. 1.5.7')),
  }),
);
/** lambdas/core/protocols/iotaap.ts `parseIotaapListQuery`. */
export const IotaapListQuery = z.object({
  search_value: z.optional(z.string().check(z.maxLength(128), z.describe('Filters on device id, version or path (substring)'))),
  offset: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1_000_000), z.meta({ default: 0 }))),
  limit: z.optional(z.number().check(z.int(), z.gte(0), z.lte(100), z.meta({ default: 10 }))),
  draw: z.optional(z.string().check(z.describe('Echoed back (DataTables)'))),
  order_dir: z.optional(z.enum(['asc', 'desc']).check(z.describe('Order by last_updated (case-insensitive)'), z.meta({ default: 'desc' }))),
});

export const iotaapLatest = operation({
  id: 'iotaapLatest',
  method: 'GET',
  path: '/v1/ota/device/latest/{deviceId}',
  fn: 'check',
  auth: 'none',
  adapterParses: true,
  tag: 'iotaap',
  summary: 'IoTaaP latest firmware version of a device',
  params: z.object({ deviceId: deviceIdParam() }),
  description: 'Open by design (IoTaaP devices are found by id alone). The version the device should run: an offered build, else its own.',
  deviceSecret: false,
  responses: {
    200: { description: 'The version to run', body: IotaapVersion },
    404: {
      description: 'Unknown or inactive device, nothing deployed yet, or resources not available at the moment (then with Retry-After)',
      body: IotaapNoSuchDevice,
      optionalHeaders: ['Retry-After'],
    },
  },
});

export const iotaapDownload = operation({
  id: 'iotaapDownload',
  method: 'GET',
  path: '/v1/ota/device/download/{deviceIdAndToken}',
  fn: 'check',
  auth: 'none',
  adapterParses: true,
  tag: 'iotaap',
  summary: 'IoTaaP download: 302 to the signed URL',
  params: z.object({ deviceIdAndToken: deviceIdAndTokenParam() }),
  description: 'Authenticated by the device token in the path (always, whatever the product mode). The bytes never pass through the API.',
  deviceSecret: false,
  responses: {
    302: { description: 'Follow Location to the signed image', headers: ['Location'] },
    404: {
      description: 'Unknown device, wrong token, nothing to download, or resources not available at the moment (then with Retry-After)',
      body: IotaapNoSuchDevice,
      optionalHeaders: ['Retry-After'],
    },
  },
});

export const iotaapListOtas = operation({
  id: 'iotaapListOtas',
  method: 'GET',
  path: '/v1/ota/device',
  fn: 'admin',
  auth: 'iam',
  tag: 'iotaap-operator',
  summary: 'IoTaaP: latest OTA per device (search, offset, limit, draw, order_dir)',
  description: 'The latest OTA (assignment) per device of every IoTaaP-bound product, DataTables-style.',
  query: IotaapListQuery,
  adapterParses: true,
  responses: {
    200: { description: 'One page', body: IotaapOtaList },
    400: { description: 'Invalid query', body: IotaapMessage },
    403: 'Forbidden',
    500: { description: 'Infrastructure fault', body: IotaapServerError, headers: ['Retry-After'] },
  },
});

export const iotaapUploadFirmware = operation({
  id: 'iotaapUploadFirmware',
  method: 'POST',
  path: '/v1/ota/device',
  fn: 'upload',
  auth: 'iam',
  tag: 'iotaap-operator',
  summary: 'IoTaaP: upload firmware for one device (multipart)',
  description: 'Feeds the ingest pipeline (the build is assigned to the device once accepted) and waits for its verdict.',
  adapterParses: true,
  body: { schema: IotaapUploadForm, required: true, contentType: 'multipart/form-data' },
  responses: {
    201: { description: '`Firmware successfully deployed`', body: IotaapMessage },
    400: { description: 'Missing field, invalid device id or version, no file, file too large, or image rejected by ingest', body: IotaapMessage },
    403: 'Forbidden',
    404: { description: '`No such device`: unknown device or wrong token', body: IotaapMessage },
    413: { description: 'Request over 10 MB (API Gateway)', body: GatewayMessage },
    500: { description: 'Infrastructure fault, or the verdict did not arrive in time (retrying is safe)', body: IotaapServerError, headers: ['Retry-After'] },
  },
});

export const IOTAAP_OPERATIONS = [iotaapLatest, iotaapDownload, iotaapListOtas, iotaapUploadFirmware] as const;
