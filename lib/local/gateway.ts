/**
 * The local API Gateway: turns each HTTP request into an HTTP API payload-v2.0 event for the
 * function the shared route table names, and the function's result back into HTTP, the way API
 * Gateway does (so handlers cannot tell laptop from cloud), including each function's timeout.
 *
 * Operator (`iam`) routes have no SigV4 locally, so they are guarded the way a local admin UI
 * must be: loopback clients only, a Host header naming this platform (defeats DNS rebinding), no
 * foreign Origin (defeats cross-site requests) and JSON bodies only (a cross-site form or
 * `text/plain` POST cannot be JSON without a CORS preflight, which is never granted). Device
 * routes stay open as in the cloud. The request log never carries secrets (redactRequestTarget).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { OPERATIONS } from '../../lambdas/contract';
import { buildOpenApiDocument } from '../../lambdas/contract/openapi';
import { splitIdAndToken } from '../../lambdas/core/security';
import { matchRoute, pathExists, routeKey, type FunctionName, type Route } from '../../lambdas/routes';
import { retryAfterSeconds } from '../../lambdas/shared/http';
import { API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS, functionTimeoutSeconds } from '../../lambdas/shared/timeouts';

export type HttpFunction = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string | object>;

export interface GatewayOptions {
  readonly functions: Partial<Record<FunctionName, HttpFunction>>;
  readonly host: string;
  readonly port: number;
  readonly routes?: readonly Route[];
  /** Operator (`iam`) routes are open only to these clients (default: loopback). */
  readonly isTrustedClient?: (remoteAddress: string | undefined) => boolean;
  /** A further host name of this platform (`OTA_PUBLIC_HOST`): accepted in Host/Origin of operator requests. */
  readonly publicHost?: string;
  /** Per-function timeout override, ms (default: lambdas/shared/timeouts.ts, capped at API Gateway's 30 s). */
  readonly timeoutMs?: Partial<Record<FunctionName, number>>;
  /** Served to operator clients on `GET /local/s3-credentials` (how otactl signs its uploads to the local S3). */
  readonly localS3Credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly log?: (line: string) => void;
}

export interface Gateway {
  readonly url: string;
  readonly server: Server;
  stop(): Promise<void>;
}

/** API Gateway's payload limit. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** Lambda's synchronous invocation payload limit: an event larger than this never reaches the function. */
export const MAX_LAMBDA_EVENT_BYTES = 6 * 1024 * 1024;

export const isLoopback = (addr: string | undefined): boolean => !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));

const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|[^;]*\+json)/i;

/** The route whose body is multipart by design (IoTaaP's firmware upload). */
const MULTIPART_ROUTE = 'POST /v1/ota/device';
const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** Query parameters whose values are secrets (device tokens, product keys, signatures, credentials). */
const SECRET_PARAM = /token|key|signature|secret|password|credential/i;
const IOTAAP_DOWNLOAD = /^(\/v1\/ota\/device\/download\/)([^/?]+)/;

/**
 * The request target as it may be logged: secret query values and the token half of IoTaaP's
 * `/v1/ota/device/download/<id><token>` replaced by `REDACTED`.
 */
export function redactRequestTarget(target: string): string {
  const q = target.indexOf('?');
  let path = q < 0 ? target : target.slice(0, q);
  const download = IOTAAP_DOWNLOAD.exec(path);
  if (download) {
    let segment = download[2];
    try {
      segment = decodeURIComponent(segment);
    } catch {
      /* undecodable: redacted whole below */
    }
    const split = splitIdAndToken(segment);
    path = `${download[1]}${split ? `${encodeURIComponent(split.deviceId)}REDACTED` : 'REDACTED'}${path.slice(download[0].length)}`;
  }
  if (q < 0) return path;
  const query = target
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        /* keep the raw name */
      }
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=REDACTED` : pair;
    })
    .join('&');
  return `${path}?${query}`;
}

/** Milliseconds the gateway waits for a function: its Lambda timeout, never beyond API Gateway's 30 s. */
export function functionDeadlineMs(fn: FunctionName, override?: number): number {
  if (override !== undefined) return override;
  return Math.min(functionTimeoutSeconds(fn) ?? API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS, API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS) * 1000;
}

function lambdaContext(fn: string, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:local-${fn}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/local-${fn}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Builds the HTTP API v2.0 event API Gateway would send for this request. */
export function toEventV2(req: IncomingMessage, body: Buffer, route: Route, pathParameters: Record<string, string>, requestId: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i].toLowerCase();
    headers[k] = headers[k] !== undefined ? `${headers[k]},${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] !== undefined ? `${query[k]},${v}` : v;
  const isText = TEXT_TYPES.test(headers['content-type'] ?? '') || body.length === 0;
  const cookies = headers.cookie ? headers.cookie.split(';').map((c) => c.trim()) : undefined;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0],
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: routeKey(route),
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  } as APIGatewayProxyEventV2;
}

/** Writes a Lambda result the way API Gateway maps it (structured result, or a bare value → 200 JSON). */
export function writeResult(res: ServerResponse, result: unknown): void {
  const structured = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!structured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  const r = result as APIGatewayProxyStructuredResultV2 & { multiValueHeaders?: Record<string, (string | number | boolean)[]> };
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, vs] of Object.entries(r.multiValueHeaders ?? {})) headers[k.toLowerCase()] = vs.map(String);
  if (r.cookies?.length) headers['set-cookie'] = r.cookies;
  if (!headers['content-type'] && body.length) headers['content-type'] = 'application/json';
  headers['content-length'] = String(body.length);
  res.writeHead(r.statusCode ?? 200, headers).end(body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  writeResult(res, { statusCode: status, headers, body: JSON.stringify(body) });
const refuse = (res: ServerResponse, status: number, code: string, message: string) => sendJson(res, status, { message, error: { code, message } });

/**
 * Why an operator request is refused, if it is: a Host that is not this platform's (DNS
 * rebinding), an Origin that is not this platform's (cross-site), a non-JSON body (a form or
 * `text/plain` POST needs no preflight).
 */
export function operatorRequestRefusal(
  req: Pick<IncomingMessage, 'headers'>,
  ownHosts: ReadonlySet<string>,
  routeKeyOfRequest: string,
): { status: number; code: string; message: string } | undefined {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!ownHosts.has(host)) return { status: 403, code: 'host_not_allowed', message: 'The Host header does not name this platform' };
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      const u = new URL(origin);
      originHost = u.protocol === 'http:' && u.origin === origin.toLowerCase().replace(/\/$/, '') ? u.host : undefined;
    } catch {
      /* "null" or garbage: refused */
    }
    if (!originHost || !ownHosts.has(originHost)) return { status: 403, code: 'origin_not_allowed', message: 'Cross-origin operator requests are refused' };
  }
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && routeKeyOfRequest !== MULTIPART_ROUTE && !JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    return { status: 415, code: 'unsupported_media_type', message: 'Operator request bodies must be application/json' };
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return 'too_large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const trusted = opts.isTrustedClient ?? isLoopback;
  const log = opts.log ?? (() => undefined);
  // The OpenAPI document of this gateway's routes, built on first request (lambdas/contract/openapi.ts).
  let openApiJson: string | undefined;
  // Filled once the port is known: the Host values (and Origin hosts) that name this platform.
  const ownHosts = new Set<string>();

  /** Guards an operator request; true when it was refused (and answered). */
  const refusedOperator = (req: IncomingMessage, res: ServerResponse, key: string): boolean => {
    if (!trusted(req.socket.remoteAddress)) {
      req.resume();
      sendJson(res, 403, { message: 'Forbidden' });
      return true;
    }
    const refusal = operatorRequestRefusal(req, ownHosts, key);
    if (!refusal) return false;
    req.resume();
    refuse(res, refusal.status, refusal.code, refusal.message);
    log(`${req.method} ${redactRequestTarget(req.url ?? '/')} → ${refusal.status} ${refusal.code}`);
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (path === '/openapi.json' && req.method === 'GET') {
      openApiJson ??= JSON.stringify(
        buildOpenApiDocument(opts.routes ? OPERATIONS.filter((o) => opts.routes!.some((r) => routeKey(r) === routeKey(o))) : OPERATIONS),
      );
      return writeResult(res, { statusCode: 200, headers: { 'content-type': 'application/json' }, body: openApiJson });
    }
    if (path === '/local/s3-credentials' && req.method === 'GET' && opts.localS3Credentials) {
      if (refusedOperator(req, res, 'GET /local/s3-credentials')) return;
      return sendJson(res, 200, opts.localS3Credentials, { 'cache-control': 'no-store' });
    }
    const match = matchRoute(req.method ?? 'GET', path, opts.routes);
    if (!match) {
      req.resume();
      return sendJson(res, pathExists(path, opts.routes) ? 405 : 404, { message: pathExists(path, opts.routes) ? 'Method Not Allowed' : 'Not Found' });
    }
    if (match.route.auth === 'iam' && refusedOperator(req, res, routeKey(match.route))) return;
    const fn = opts.functions[match.route.fn];
    if (!fn) return sendJson(res, 404, { message: 'Not Found' });
    const body = await readBody(req);
    if (body === 'too_large') {
      // The rest of the body is unread: close the connection so a reused one does not see it as a request.
      const socket = req.socket;
      res.setHeader('connection', 'close');
      res.on('finish', () => socket?.destroy());
      sendJson(res, 413, { message: 'Request Entity Too Large' });
      return;
    }
    const requestId = randomUUID();
    const started = Date.now();
    const timeoutMs = functionDeadlineMs(match.route.fn, opts.timeoutMs?.[match.route.fn]);
    let timer: NodeJS.Timeout | undefined;
    try {
      const event = toEventV2(req, body, match.route, match.pathParameters, requestId);
      // As in the cloud: a body API Gateway accepts can still make an event Lambda refuses (binary bodies grow by a third in base64).
      if (Buffer.byteLength(JSON.stringify(event)) > MAX_LAMBDA_EVENT_BYTES) return sendJson(res, 413, { message: 'Request Entity Too Large' });
      const timedOut = Symbol('timeout');
      const result = await Promise.race([
        fn(event, lambdaContext(match.route.fn, requestId, timeoutMs)),
        new Promise<typeof timedOut>((resolve) => (timer = setTimeout(() => resolve(timedOut), timeoutMs))),
      ]);
      if (result === timedOut) {
        // Lambda would end the invocation here; API Gateway answers 503. Retry-After so a fleet backs off.
        process.stderr.write(`gateway: ${match.route.fn} timed out after ${timeoutMs} ms\n`);
        sendJson(
          res,
          503,
          { message: 'Service Unavailable', error: { code: 'function_timeout', message: `The function did not answer within ${timeoutMs} ms` } },
          {
            'retry-after': String(retryAfterSeconds()),
          },
        );
      } else {
        writeResult(res, result);
      }
    } catch (e) {
      // An unhandled Lambda error is a 500 at API Gateway; our handlers never let one escape.
      process.stderr.write(`gateway: ${match.route.fn} threw: ${(e as Error).stack ?? e}\n`);
      sendJson(res, 500, { message: 'Internal Server Error' });
    } finally {
      clearTimeout(timer);
    }
    log(`${req.method} ${redactRequestTarget(req.url ?? '/')} → ${res.statusCode} ${match.route.fn} ${Date.now() - started}ms`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      process.stderr.write(`gateway: ${(e as Error).stack ?? e}\n`);
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  for (const h of ['127.0.0.1', 'localhost', '[::1]', ...(opts.publicHost ? [opts.publicHost] : [])]) ownHosts.add(`${h.toLowerCase()}:${port}`);
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  if (host !== '127.0.0.1' && host !== '::1') ownHosts.add(`${host.includes(':') ? `[${host}]` : host}:${port}`.toLowerCase());
  return {
    url: `http://${host}:${port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
