/** FireFly / esp32FOTA manifest route. Pure: the contract entries of this protocol (see lambdas/contract/). */
import * as z from 'zod/mini';
import { operation } from '../../contract/operation';
import { str, signedUrl, named, ErrorBody } from '../../contract/schema';
import { FireflyQuerySchema } from './wire';

const classParam = () =>
  z.string().check(z.regex(/^[A-Za-z0-9_-]{1,32}$/), z.describe('FireFly product class (the product binding `protocols.firefly.product_class`)'));
const productHexParam = () => z.string().check(z.regex(/^[\x21-\x7e]{1,128}$/), z.describe('FireFly product hex, e.g. 0x1A2B (matched case-insensitively)'));

/** lambdas/core/protocols/firefly.ts `fireflyManifest`. */
export const FireflyManifest = named(
  'FireflyManifest',
  z
    .object({
      type: str().check(z.describe('Firmware type of the product/build')),
      version: str(),
      app: z.optional(signedUrl()),
      ui: z.optional(signedUrl().check(z.describe('LittleFS/SPIFFS image, when the build has ui.bin'))),
      url: z.optional(signedUrl().check(z.describe('The app URL again, for stock esp32FOTA (releases without ui)'))),
      host: z.optional(str().check(z.describe('Stock esp32FOTA, release with ui: CDN host name'))),
      port: z.optional(z.number().check(z.describe('Stock esp32FOTA: CDN port (https only on 443/4433)'))),
      bin: z.optional(str().check(z.describe('Stock esp32FOTA: path and signed query of the app image'))),
      spiffs: z.optional(str().check(z.describe('Stock esp32FOTA: path and signed query of the ui (filesystem) image'))),
    })
    .check(
      z.describe(
        "esp32FOTA manifest (at most 2048 bytes). Already on the latest release, or an unknown version: the requester's own version (no update), with the latest release's URLs for a version never released.",
      ),
    ),
);

export const fireflyManifest = operation({
  id: 'fireflyManifest',
  method: 'GET',
  path: '/ota/{class}/{productHex}',
  fn: 'check',
  auth: 'none',
  adapterParses: true,
  tag: 'firefly',
  summary: 'esp32FOTA manifest of the next release after current_version',
  params: z.object({ class: classParam(), productHex: productHexParam() }),
  description:
    'Sequential updates: the oldest release newer than `current_version` the requester may have. With `id` the device is tracked and placed in rollout cohorts; without it only deployments at 100 % apply.',
  query: FireflyQuerySchema,
  responses: {
    200: { description: "The esp32FOTA manifest (the requester's own version when nothing is newer)", body: FireflyManifest },
    400: 'BadRequest',
    404: {
      description: 'Unknown product (`unknown_product`), unknown device / failing credential (`unknown_device`), or no release at all (`no_release`)',
      body: ErrorBody,
    },
    409: { description: '`current_version_revoked`: the running version is revoked and nothing newer is released', body: ErrorBody },
    503: 'Unavailable',
  },
});

export const FIREFLY_OPERATIONS = [fireflyManifest] as const;
