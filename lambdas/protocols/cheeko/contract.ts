/** Cheeko toy OTA routes. Pure: the contract entries of this protocol (see lambdas/contract/). */
import * as z from 'zod/mini';
import { operation } from '../../contract/operation';
import { str, count, signedUrl, named } from '../../contract/schema';
import { CheekoBodySchema } from './wire';

export const CheekoCheckRequest = named('CheekoCheckRequest', CheekoBodySchema);
export const CheekoActivateRequest = named('CheekoActivateRequest', z.pick(CheekoBodySchema, { mac: true, mac_address: true, application: true, token: true }));

/** lambdas/core/protocols/cheeko.ts `cheekoFirmware`. */
export const CheekoFirmware = named(
  'CheekoFirmware',
  z.object({
    version: str(),
    url: signedUrl(),
    size: count(),
    force: z.literal([0, 1]),
    name: str(),
    remark: str(),
  }),
);
export const CheekoCheckResponse = named(
  'CheekoCheckResponse',
  z.object({
    device: z.object({ mac: str().check(z.describe('AA:BB:CC:DD:EE:FF')), currentVersion: str(), board: str(), autoUpdate: z.boolean() }),
    firmware: z.nullable(CheekoFirmware),
    serverTime: z.object({ timestamp: count().check(z.describe('Unix time, ms')), timezone: z.literal('UTC'), offset: z.literal(0) }),
  }),
);
export const CheekoInternalError = named(
  'CheekoInternalError',
  z.object({ error: z.literal('Internal server error') }).check(z.describe('Sent with 200: Cheeko devices treat any non-200 as fatal')),
);
export const CheekoError = named('CheekoError', z.object({ code: z.literal(400), msg: str() }));
export const CheekoStatusResponse = named(
  'CheekoStatusResponse',
  z.object({
    code: z.literal(0),
    msg: z.literal('success'),
    data: z.object({
      status: z.literal('online'),
      latestVersions: z.record(str(), z.object({ version: str(), forceUpdate: z.boolean() })).check(z.describe('Latest RELEASED version per board type')),
      serverTime: count().check(z.describe('Unix time, ms')),
    }),
  }),
);
/** lambdas/protocols/cheeko.ts `GET /toy/ota`. */
export const CheekoStatusQuery = z.object({
  type: z.optional(z.string().check(z.describe('Only this board type'))),
  application: z.optional(z.string().check(z.describe('Product binding; absent or unknown: the default Cheeko product'))),
});
/** lambdas/core/protocols/cheeko.ts `resolveCheekoMac`: the header wins over the body. */
export const CheekoHeaders = z.object({
  'Device-Id': z.optional(z.string().check(z.describe('MAC of the device (else body `mac` / `mac_address`)'))),
});

export const cheekoCheck = operation({
  id: 'cheekoCheck',
  method: 'POST',
  path: '/toy/ota',
  fn: 'check',
  auth: 'none',
  adapterParses: true,
  tag: 'cheeko',
  summary: 'Cheeko boot check and registration',
  description:
    'Boot check and registration by MAC (`Device-Id` header, else body `mac` / `mac_address`). A malformed optional body field is dropped, not rejected. The product is the one bound to `application`, else the default Cheeko product.',
  headers: CheekoHeaders,
  body: { schema: CheekoCheckRequest, required: false, description: 'Optional when Device-Id is sent; extra fields are ignored.' },
  responses: {
    200: {
      description: '`firmware` is null when there is nothing to install; an internal error is also a 200, `{ error }`',
      body: [CheekoCheckResponse, CheekoInternalError],
    },
    400: { description: 'Missing or invalid device id', body: CheekoError },
  },
});

export const cheekoStatus = operation({
  id: 'cheekoStatus',
  method: 'GET',
  path: '/toy/ota',
  fn: 'check',
  auth: 'none',
  adapterParses: true,
  tag: 'cheeko',
  summary: 'Cheeko OTA status and latest version per board',
  query: CheekoStatusQuery,
  deviceSecret: false,
  responses: {
    200: { description: "Latest released version per board (the seed's three boards, plus any a build names)", body: CheekoStatusResponse },
    400: { description: 'Rejected input', body: CheekoError },
    503: 'Unavailable',
  },
});

export const cheekoActivate = operation({
  id: 'cheekoActivate',
  method: 'POST',
  path: '/toy/ota/activate',
  fn: 'activation',
  auth: 'none',
  adapterParses: true,
  tag: 'cheeko',
  summary: 'Cheeko activation check',
  headers: CheekoHeaders,
  body: { schema: CheekoActivateRequest, required: false, description: 'Optional when Device-Id is sent.' },
  responses: {
    200: { description: 'The device is registered and active', text: 'success' },
    202: { description: 'Not activated (unknown or inactive device, missing MAC, failing credential, or an internal error); empty body' },
  },
});

export const CHEEKO_OPERATIONS = [cheekoCheck, cheekoStatus, cheekoActivate] as const;
