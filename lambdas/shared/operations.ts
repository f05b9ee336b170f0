/**
 * Handlers implement operations of the contract (lambdas/contract/), not route strings: a
 * function's implementation map is typed by the operations declared for it, so an undeclared or
 * unimplemented operation is a type error. The declaration parses the request before the
 * implementation runs — path parameters always (they become keys), query and body unless the
 * protocol adapter reads its own wire format — and `reply` type-checks a JSON answer against the
 * declared response of that status.
 */
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { OperationsOf } from '../contract';
import { routeKey, type FunctionName, type JsonStatus, type Operation, type ParsedRequest, type ResponseBody } from '../contract/operation';
import { DomainError } from '../core/errors';
import { httpHandler, json, parseJsonBody, validate, type HttpEvent, type HttpResult } from './http';
import type { Logger } from './logger';

export interface OperationRequest<O extends Operation> extends ParsedRequest<O> {
  readonly event: HttpEvent;
  readonly context?: Context;
  /** A JSON answer the declaration allows: the status and the body's type are checked against it. */
  reply<S extends JsonStatus<O>>(status: S, body: ResponseBody<O, S>, headers?: Record<string, string>): HttpResult;
}

export type Implementation<O extends Operation> = (req: OperationRequest<O>) => Promise<HttpResult>;
export interface ImplementationWithErrors<O extends Operation> {
  readonly handle: Implementation<O>;
  /** Shapes errors the way this protocol documents them; undefined falls back to the shared mapping. */
  readonly onError?: (e: unknown) => HttpResult | undefined;
}
/** One implementation per operation of `O`, keyed by its id. */
export type Implementations<O extends Operation> = { readonly [K in O as K['id']]: Implementation<K> | ImplementationWithErrors<K> };

/** Error code and message of each path parameter (the codes clients already know). */
const PARAM_ERRORS: Record<string, readonly [string, string]> = {
  productId: ['invalid_product_id', 'Product id must match [a-z0-9][a-z0-9_-]{0,31}'],
  deviceId: ['invalid_device_id', 'Device id is not valid'],
  build: ['invalid_build', 'Build number must be a positive integer'],
  deploymentId: ['invalid_deployment_id', 'Deployment id is not valid'],
  class: ['invalid_product_class', 'Product class is not valid'],
  keyId: ['invalid_key_id', 'Signing key id must be 64 lower-case hex digits'],
};

/** Validates each declared path parameter on its own, so the error names the parameter. */
function parseParams(op: Operation, raw: Record<string, string | undefined>): Record<string, unknown> {
  const shape = (op.params?.def.shape ?? {}) as Record<string, z.ZodMiniType>;
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const r = schema.safeParse(raw[name] ?? '');
    if (!r.success) {
      const [code, message] = PARAM_ERRORS[name] ?? ['invalid_path_parameter', `Path parameter ${name} is not valid`];
      throw new DomainError('invalid', code, message, { fields: [name] });
    }
    out[name] = r.data;
  }
  return out;
}

/** Parses a request as its operation declares it. */
export function parseRequest<O extends Operation>(op: O, event: HttpEvent): ParsedRequest<O> {
  const params = parseParams(op, event.pathParameters ?? {});
  if (op.adapterParses) return { params, query: undefined, body: undefined } as ParsedRequest<O>;
  const query = op.query ? validate(op.query, event.queryStringParameters ?? {}) : undefined;
  const body =
    op.body && (op.body.contentType ?? 'application/json') === 'application/json'
      ? validate(op.body.schema, parseJsonBody(event, { allowEmpty: !op.body.required }))
      : undefined;
  return { params, query, body } as ParsedRequest<O>;
}

const replier = (status: number, body: unknown, headers?: Record<string, string>) => json(status, body, headers);

/**
 * A Lambda handler serving `operations` with `implementations`: the route key picks the operation;
 * errors are shaped by the implementation's protocol where it documents its own bodies, else by the
 * shared mapping (lambdas/shared/http.ts).
 */
export function operationsHandler<O extends Operation>(
  logger: Logger,
  operations: readonly O[],
  implementations: Implementations<O>,
  opts: { readonly flush?: () => void; readonly onError?: (e: unknown, event: HttpEvent) => HttpResult | undefined } = {},
) {
  const byRoute = new Map<string, { op: O; impl: ImplementationWithErrors<O> }>();
  for (const op of operations) {
    const impl = (implementations as Record<string, Implementation<O> | ImplementationWithErrors<O>>)[op.id];
    if (!impl) throw new Error(`No implementation of ${op.id}`); // unreachable when typed
    byRoute.set(routeKey(op), { op, impl: typeof impl === 'function' ? { handle: impl } : impl });
  }
  return httpHandler(
    logger,
    async (event, context) => {
      const entry = byRoute.get(event.routeKey);
      if (!entry) return json(404, { error: { code: 'route_not_found', message: `No operation for ${event.routeKey}` } });
      const parsed = parseRequest(entry.op, event);
      return entry.impl.handle({ ...parsed, event, context, reply: replier } as OperationRequest<O>);
    },
    { flush: opts.flush, onError: (e, event) => byRoute.get(event.routeKey)?.impl.onError?.(e) ?? opts.onError?.(e, event) },
  );
}

/**
 * The operations a function's handler serves, passed one by one (not through the whole contract,
 * so a bundle carries only its own declarations); tsc fails unless they are exactly the ones the
 * contract gives `fn`: one of another function does not fit `O`, a missing one is demanded by name.
 */
export function servedOperations<F extends FunctionName, O extends OperationsOf<F>>(
  _fn: F,
  operations: readonly O[],
  ..._complete: [OperationsOf<F>] extends [O] ? [] : [missing: Exclude<OperationsOf<F>, O>]
): readonly O[] {
  return operations;
}

/** Route keys an operations handler serves (checked against the route table by a test). */
export const routeKeysOf = (operations: readonly Operation[]): string[] => operations.map(routeKey);
