/**
 * The operator API client: JSON over fetch, SigV4-signed for a cloud endpoint, plain for the
 * local platform. Non-2xx answers become ApiError (code + message); an unreachable endpoint
 * becomes a CliError that says which URL and why.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { requestFor, strictEncode, type CallArgs, type SuccessBody } from '../../lambdas/contract/client';
import type { HttpMethod, Operation } from '../../lambdas/contract/operation';
import type { ResolvedConnection } from './config';
import { ApiError, CliError } from './errors';
import { createSigner, type RequestSigner } from './signer';

export { strictEncode };

/** Query values are scalars; undefined, null and '' are left out. */
export type Query = Readonly<Record<string, unknown>>;

export interface ApiClient {
  readonly endpoint: string;
  /** One operation of the contract (lambdas/contract): path, query and body from `args`, the answer typed by its success reply. */
  call<O extends Operation>(op: O, args: CallArgs<O>): Promise<SuccessBody<O>>;
  /** The transport under `call`: an untyped answer, for what the contract does not declare. */
  request(method: HttpMethod, path: string, opts?: { query?: Query; body?: unknown }): Promise<unknown>;
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

export function queryString(query: Query = {}): string {
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${strictEncode(k)}=${strictEncode(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export function createApiClient(opts: ApiClientOptions): ApiClient {
  const endpoint = opts.endpoint.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const client: ApiClient = {
    endpoint,
    async call<O extends Operation>(op: O, args: CallArgs<O>): Promise<SuccessBody<O>> {
      const r = requestFor(op, args);
      // Typed, not validated: the declaration is the contract both sides are built from.
      return (await client.request(r.method, r.path, { query: r.query, body: r.body })) as SuccessBody<O>;
    },
    async request(method: HttpMethod, path: string, ro: { query?: Query; body?: unknown } = {}): Promise<unknown> {
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
      if (res.status >= 200 && res.status < 300) return parsed;
      throw apiErrorOf(res.status, parsed, `${method} ${path}`);
    },
  };
  return client;
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
