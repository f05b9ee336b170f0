/** Native device API (SimpleOTA-shaped): the check and the status report. Pure: the contract entries of this protocol (see lambdas/contract/). */
import * as z from 'zod/mini';
import { operation } from '../../contract/operation';
import { str, count, buildNumber, sha256, crc32, signedUrl, detachedSignatureShape, everyOf, named, CHECK_STATUSES } from '../../contract/schema';
import type { ReportResult } from '../../shared/status-service';
import { CheckRequestSchema, StatusRequestSchema } from './wire';

const REPORT_RESULTS = everyOf<ReportResult>()(['recorded', 'duplicate', 'unknown_product', 'unknown_device', 'unknown_build']);
export const CheckRequest = named('CheckRequest', CheckRequestSchema);
export const StatusRequest = named('StatusRequest', StatusRequestSchema);

/** lambdas/core/native-api.ts `NativeCheckResponse`. */
export const NativeCheckResponse = named(
  'NativeCheckResponse',
  z.object({
    status: z.enum(CHECK_STATUSES),
    update_available: z.boolean(),
    update: z.boolean().check(z.describe('Alias of update_available (SimpleOTAClient reads `update`)')),
    next_check_s: count().check(z.describe('Seconds until the next check (jittered poll interval)')),
    build_number: z.optional(buildNumber()),
    version: z.optional(str()),
    url: z.optional(signedUrl()),
    size: z.optional(count()),
    sha256: z.optional(sha256()),
    crc32: z.optional(crc32()),
    checksum: z.optional(str().check(z.describe('`sha256:<hex>`'))),
    deployment_id: z.optional(str()),
    assignment_id: z.optional(str()),
    force: z.optional(z.boolean().check(z.describe('Install without asking (the build or the deployment says so)'))),
    firmware_type: z.optional(str()),
    ui: z.optional(z.object({ url: signedUrl(), size: count(), sha256: sha256(), crc32: crc32() })),
    ...detachedSignatureShape(),
  }),
);
/** lambdas/handlers/status.ts. */
export const NativeStatusResponse = named(
  'NativeStatusResponse',
  z.object({
    ok: z.boolean().check(z.describe('true for `recorded` and `duplicate`')),
    result: z.enum(REPORT_RESULTS),
    deployment_id: z.optional(str().check(z.describe('The deployment whose offer of this build the device holds'))),
    counted: z.optional(z.boolean().check(z.describe("Whether this report settled or advanced that offer; false: recorded in the device's history only"))),
  }),
);

export const nativeCheck = operation({
  id: 'nativeCheck',
  method: 'POST',
  path: '/api/v1/ota/check',
  fn: 'check',
  auth: 'none',
  adapterParses: true,
  tag: 'native',
  summary: 'Device asks whether an update is available',
  description:
    'Business outcomes (unknown product or device, inactive, failing credential → `unknown_device`) are 200 with `update_available: false`, so devices never retry-storm. A trailing slash is accepted.',
  body: { schema: CheckRequest, required: true, description: 'Extra fields are ignored.' },
  responses: {
    200: { description: 'The decision; with an offer when `update_available`', body: NativeCheckResponse },
    400: 'BadRequest',
    413: 'PayloadTooLarge',
    503: 'Unavailable',
  },
});

export const nativeStatus = operation({
  id: 'nativeStatus',
  method: 'POST',
  path: '/api/v1/ota/status',
  fn: 'status',
  auth: 'none',
  adapterParses: true,
  tag: 'native',
  summary: 'Device reports download/install progress and outcome',
  description: 'Progress and outcome of an install. `failed` / `rolled_back` builds are never offered to the device again. A trailing slash is accepted.',
  body: { schema: StatusRequest, required: true },
  responses: {
    200: { description: 'Recorded (or a business outcome in `result`)', body: NativeStatusResponse },
    400: 'BadRequest',
    413: 'PayloadTooLarge',
    503: 'Unavailable',
  },
});

export const NATIVE_OPERATIONS = [nativeCheck, nativeStatus] as const;
