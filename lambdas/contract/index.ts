/**
 * Every HTTP operation of the platform: the device protocols' (lambdas/protocols/registry.ts), then
 * the operator API's. The route table (lambdas/routes.ts), the OpenAPI document (./openapi.ts), the
 * handlers' dispatch, the CLI and the console all read this list. Pure: zod/mini and core only.
 */
import * as z from 'zod/mini';
import { IngestManifestSchema } from '../core/manifest';
import { PROTOCOL_OPERATIONS } from '../protocols/registry';
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

export const OPERATIONS = [...PROTOCOL_OPERATIONS, ...OPERATOR_OPERATIONS] as const satisfies readonly Operation[];

export type AnyOperation = (typeof OPERATIONS)[number];
/** The operations one Lambda function serves. */
export type OperationsOf<F extends Operation['fn']> = Extract<AnyOperation, { readonly fn: F }>;
export const operationsOf = <F extends Operation['fn']>(fn: F): OperationsOf<F>[] => OPERATIONS.filter((o): o is OperationsOf<F> => o.fn === fn);
