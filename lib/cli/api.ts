/**
 * The operator API client: JSON over fetch, SigV4-signed for a cloud endpoint, plain for the
 * local platform. Non-2xx answers become ApiError (code + message); an unreachable endpoint
 * becomes a CliError that says which URL and why.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { strictEncode } from '../../lambdas/contract/client';
import type { ResolvedConnection } from './config';
import { ApiError, CliError } from './errors';
import { createSigner, type RequestSigner } from './signer';

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface ApiClient {
  readonly endpoint: string;
  request<T = any>(method: string, path: string, opts?: { query?: Query; body?: unknown }): Promise<T>;
}

export interface ApiClientOptions {
  readonly endpoint: string;
  /** Absent: unsigned (local platform). */
  readonly signer?: RequestSigner;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  /** Hint appended to connection errors (e.g. "is `npm start` running?"). */
  readonly unreachableHint?: string;
}

export { strictEncode };

/** `/admin/v1/products/{p}/devices/{id}` with each dynamic segment encoded: `adminPath(p, 'devices', id)`. */
export const adminPath = (productId: string, ...segments: (string | number)[]): string =>
  ['/admin/v1/products', strictEncode(productId), ...segments.map((s) => strictEncode(String(s)))].join('/');

export function queryString(query: Query = {}): string {
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${strictEncode(k)}=${strictEncode(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export function createApiClient(opts: ApiClientOptions): ApiClient {
  const endpoint = opts.endpoint.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  return {
    endpoint,
    async request<T>(method: string, path: string, ro: { query?: Query; body?: unknown } = {}): Promise<T> {
      const url = `${endpoint}${path}${queryString(ro.query)}`;
      const body = ro.body === undefined ? undefined : JSON.stringify(ro.body);
      let headers: Record<string, string> = { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
      if (opts.signer) headers = await opts.signer({ method, url, headers, ...(body !== undefined ? { body } : {}) });
      let res: Response;
      try {
        res = await doFetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        const why = err.name === 'TimeoutError' ? 'timed out' : (err.cause?.code ?? err.cause?.message ?? err.message);
        throw new CliError(`cannot reach ${endpoint}: ${why}${opts.unreachableHint ? ` (${opts.unreachableHint})` : ''}`);
      }
      const text = await res.text();
      let parsed: unknown = undefined;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      if (res.status >= 200 && res.status < 300) return parsed as T;
      throw apiErrorOf(res.status, parsed, `${method} ${path}`);
    },
  };
}

function apiErrorOf(status: number, body: unknown, what: string): ApiError {
  const b = body as { error?: { code?: unknown; message?: unknown }; message?: unknown; Message?: unknown } | undefined;
  if (b && typeof b === 'object' && b.error && typeof b.error.code === 'string') {
    return new ApiError(status, b.error.code, String(b.error.message ?? ''), body);
  }
  // API Gateway's own answers (IAM denials, throttling, unknown routes): { "message": "Forbidden" }.
  const message =
    b && typeof b === 'object' && (typeof b.message === 'string' || typeof b.Message === 'string')
      ? String(b.message ?? b.Message)
      : typeof body === 'string' && body
        ? body.slice(0, 200)
        : `${what} failed`;
  return new ApiError(status, `http_${status}`, message, body);
}

/** The client for a resolved connection: signed with the default credential chain when `sign`. */
export function apiClientFor(conn: ResolvedConnection, opts: { fetch?: typeof fetch; signer?: RequestSigner } = {}): ApiClient {
  const signer = conn.sign ? (opts.signer ?? createSigner({ region: conn.region!, credentials: fromNodeProviderChain() })) : undefined;
  return createApiClient({
    endpoint: conn.endpoint,
    ...(signer ? { signer } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(conn.local ? { unreachableHint: 'is the local platform running? `npm start`' } : {}),
  });
}
