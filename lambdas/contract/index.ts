/**
 * Every HTTP operation of the platform, device protocols first, then the operator API. The route
 * table (lambdas/routes.ts), the OpenAPI document (./openapi.ts), the handlers' dispatch, the CLI
 * and the console all read this list. Pure: zod/mini and core only.
 */
import * as z from 'zod/mini';
import { IngestManifestSchema } from '../core/manifest';
import { ARDUINO_OPERATIONS } from '../protocols/arduino/contract';
import { BOTA_OPERATIONS } from '../protocols/bota/contract';
import { CHEEKO_OPERATIONS } from '../protocols/cheeko/contract';
import { FIREFLY_OPERATIONS } from '../protocols/firefly/contract';
import { IOTAAP_OPERATIONS } from '../protocols/iotaap/contract';
import { NATIVE_OPERATIONS } from '../protocols/native/contract';
import type { Operation } from './operation';
import { OPERATOR_OPERATIONS } from './operator';
import { named } from './schema';

export * from './operation';

/** Not an HTTP body: documented beside the API because CI writes it (ingest's input). */
named(
  'IngestManifest',
  IngestManifestSchema as z.ZodMiniType,
  'Not an HTTP body: the CI `manifest.json` uploaded last into the ingest bucket (`<product>/<version>/manifest.json`), which starts ingest; the verdict is written next to it as result.json.',
);

export const OPERATIONS = [
  ...NATIVE_OPERATIONS,
  ...FIREFLY_OPERATIONS,
  ...ARDUINO_OPERATIONS,
  ...CHEEKO_OPERATIONS,
  ...IOTAAP_OPERATIONS.filter((o) => o.auth === 'none'),
  ...BOTA_OPERATIONS,
  ...OPERATOR_OPERATIONS,
  ...IOTAAP_OPERATIONS.filter((o) => o.auth === 'iam'),
] as const satisfies readonly Operation[];

export type AnyOperation = (typeof OPERATIONS)[number];
/** The operations one Lambda function serves. */
export type OperationsOf<F extends Operation['fn']> = Extract<AnyOperation, { readonly fn: F }>;
export const operationsOf = <F extends Operation['fn']>(fn: F): OperationsOf<F>[] => OPERATIONS.filter((o): o is OperationsOf<F> => o.fn === fn);
