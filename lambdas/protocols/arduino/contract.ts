/** Arduino-ESP32 HTTPUpdate route. Pure: the contract entries of this protocol (see lambdas/contract/). */
import * as z from 'zod/mini';
import { operation } from '../../contract/operation';
import { ErrorBody, productIdParam } from '../../contract/schema';

/** lambdas/core/protocols/arduino.ts `parseArduinoHeaders` (names are case-insensitive). */
export const ArduinoHeaders = z.object({
  'x-ESP32-STA-MAC': z.string().check(z.describe('Station MAC; identifies the device')),
  'x-ESP32-version': z.optional(z.string().check(z.maxLength(64), z.describe('Running version (HTTPUpdate: the currentVersion argument)'))),
  'x-ESP32-sketch-sha256': z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/), z.describe('Identifies the running build when no version is sent'))),
  'x-ESP32-free-space': z.optional(z.number().check(z.int(), z.gte(0), z.describe('An image that would not fit is not offered'))),
  'x-ESP32-mode': z.optional(z.string().check(z.describe('`sketch` (default) or `spiffs`; a filesystem request always gets 304'))),
});

export const arduinoHttpUpdate = operation({
  id: 'arduinoHttpUpdate',
  method: 'GET',
  path: '/api/v1/ota/arduino/{productId}',
  fn: 'check',
  auth: 'none',
  adapterParses: true,
  tag: 'arduino',
  summary: 'Arduino HTTPUpdate check (x-ESP32-* headers)',
  params: z.object({ productId: productIdParam() }),
  description:
    'Arduino-ESP32 HTTPUpdate (call `httpUpdate.setFollowRedirects(HTTPC_FORCE_FOLLOW_REDIRECTS)`). A 200 would be flashed, so no JSON body is ever 200.',
  headers: ArduinoHeaders,
  responses: {
    302: { description: 'Update: follow Location to the signed image', headers: ['Location'] },
    304: { description: 'Nothing newer (also for unknown or inactive devices, filesystem requests and images that would not fit)' },
    400: { description: '`invalid_arduino_request`: not an HTTPUpdate request (missing or malformed x-ESP32-* headers)', body: ErrorBody },
    403: { description: '`forbidden`: failing device credential', body: ErrorBody },
    404: { description: '`unknown_product`', body: ErrorBody },
    503: 'Unavailable',
  },
});

export const ARDUINO_OPERATIONS = [arduinoHttpUpdate] as const;
