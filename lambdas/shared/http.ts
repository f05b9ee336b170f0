/**
 * HTTP plumbing for API Gateway HTTP API (payload v2.0) handlers: request parsing, response
 * helpers, and the single place where errors become HTTP responses.
 *
 * - DomainError → its 4xx, body `{ "error": { "code", "message" } }`.
 * - Anything else is an infrastructure fault → 503 with `Retry-After`, so a fleet backs off
 *   instead of retry-storming. Devices never see a stack trace.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod/mini';
import { DomainError, type DomainErrorKind, isDomainError } from '../core/errors';
import type { Logger } from './logger';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

const STATUS_BY_KIND: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
};
export const statusForError = (e: DomainError): number => STATUS_BY_KIND[e.kind];

/** Seconds a device should wait after a 5xx (jittered so a fleet does not come back in lockstep). */
export const retryAfterSeconds = (random: () => number = Math.random): number => 20 + Math.floor(random() * 40);

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}
export function text(statusCode: number, body: string, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers }, body };
}
export function empty(statusCode: number, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'cache-control': 'no-store', ...headers }, body: '' };
}
export function errorBody(e: DomainError): { error: { code: string; message: string; details?: unknown } } {
  return { error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } };
}
export const unavailable = (): HttpResult =>
  json(503, { error: { code: 'unavailable', message: 'Temporary failure; retry later' } }, { 'retry-after': String(retryAfterSeconds()) });

/** Largest request body any device or operator JSON route accepts. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/** The raw body as a Buffer (API Gateway base64-encodes binary bodies). */
export function rawBody(event: HttpEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** Case-insensitive header lookup (API Gateway v2 lower-cases names, other callers may not). */
export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted && v !== undefined) return v;
  return undefined;
}

/** Parses a JSON object body; empty body → `{}` when `allowEmpty`. Throws DomainError on anything malformed. */
export function parseJsonBody(event: HttpEvent, opts: { allowEmpty?: boolean; maxBytes?: number } = {}): Record<string, unknown> {
  const buf = rawBody(event);
  if (buf.length > (opts.maxBytes ?? MAX_JSON_BODY_BYTES)) {
    throw new DomainError('too_large', 'payload_too_large', `Request body exceeds ${opts.maxBytes ?? MAX_JSON_BODY_BYTES} bytes`);
  }
  if (buf.length === 0) {
    if (opts.allowEmpty) return {};
    throw new DomainError('invalid', 'invalid_json', 'Request body must be a JSON object');
  }
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new DomainError('invalid', 'invalid_json', 'Request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DomainError('invalid', 'invalid_json', 'Request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Human summary of zod issues: `device_id: Too big; build: Invalid input`. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(body)'}: ${i.message}`)
    .join('; ');
}

/** Validates `value` against a zod schema, throwing a 400 DomainError naming the offending fields. */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown, code = 'validation_failed'): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new DomainError('invalid', code, describeIssues(r.error.issues), {
      fields: [...new Set(r.error.issues.map((i) => i.path.map(String).join('.')))],
    });
  }
  return r.data as z.infer<S>;
}

export type RouteHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/**
 * Wraps a route handler with the shared error mapping. `onError` lets a protocol adapter shape its
 * own documented error bodies (e.g. Cheeko's `{ code, msg }`); return undefined to fall through.
 */
export function httpHandler(
  logger: Logger,
  fn: RouteHandler,
  opts: {
    onError?: (e: unknown, event: HttpEvent) => HttpResult | undefined;
    /** Emits the invocation's metrics (device functions pass `flushMetrics`; the admin function keeps its bundle lean). */
    flush?: () => void;
  } = {},
) {
  return middy<HttpEvent, HttpResult>()
    .use({
      // Metrics are emitted (EMF) once per invocation, whatever the outcome.
      after: () => opts.flush?.(),
      before: (request) => {
        logger.resetKeys();
        logger.appendKeys({ requestId: request.context?.awsRequestId, route: request.event.routeKey });
      },
      onError: (request) => {
        const e = request.error;
        const custom = opts.onError?.(e, request.event);
        if (custom) {
          request.response = custom;
        } else if (isDomainError(e)) {
          logger.info('request rejected', { code: e.code, status: statusForError(e) });
          request.response = json(statusForError(e), errorBody(e));
        } else {
          logger.error('infrastructure failure', e);
          request.response = unavailable();
        }
        opts.flush?.();
      },
    })
    .handler((event, context) => fn(event, context));
}
