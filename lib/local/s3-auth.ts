/**
 * The local S3's front door. s3rver accepts any SigV4 signature and anonymous requests, so
 * anyone who could reach it could read firmware without a signed URL and overwrite a released
 * build. This HTTP front listens on the public S3 port, verifies each request's SigV4 signature
 * (Authorization header or presigned query) against the platform's local credentials as S3 does,
 * and only then forwards it to s3rver on an internal loopback port. Refusals are S3's own XML
 * errors (403 AccessDenied / InvalidAccessKeyId / SignatureDoesNotMatch / RequestTimeTooSkewed).
 *
 * It also performs CopyObject itself (a GET of the source and a PUT of the destination on
 * s3rver), because s3rver's own copy differs from S3 in three ways that matter to the ingest: it
 * decodes `x-amz-copy-source` with `decodeURI`, which keeps `%2B` as is (a key with `+`, e.g.
 * version `1.3.1+5`, was NoSuchKey); it ignores `x-amz-copy-source-if-match` (here: 412
 * PreconditionFailed when the source's ETag differs, checked against the very bytes copied); and
 * with `x-amz-metadata-directive: REPLACE` it keeps the destination's previous MD5, so the copy's
 * ETag was stale.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** S3 refuses a signed request whose date is further than this from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** S3's longest presigned URL lifetime (7 days). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** A signed payload hash is checked before forwarding, so such a body is held in memory; local firmware is far smaller. */
export const MAX_HASHED_BODY_BYTES = 128 * 1024 * 1024;

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Query parameters of a presigned URL that are not part of the request s3rver should see. */
const PRESIGN_PARAMS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders', 'x-amz-signature', 'x-amz-security-token'];

export type Verdict =
  | { readonly ok: true; readonly payloadHash: string; readonly presigned: boolean }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

const deny = (code: string, message: string, status = 403): Verdict => ({ ok: false, status, code, message });

/** Exposes the canonical-request steps of the SDK's own signer, so verification signs exactly as clients do. */
class Verifier extends SignatureV4 {
  constructor(credentials: S3Credentials) {
    // S3 does not double-escape the path; the verifier never adds a payload checksum.
    super({ service: 's3', region: 'us-east-1', credentials, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  }

  async signatureOf(request: HttpRequest, canonicalHeaders: Record<string, string>, payloadHash: string, longDate: string, scope: Scope): Promise<string> {
    const canonical = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    const stringToSign = await this.createStringToSign(longDate, `${scope.date}/${scope.region}/${scope.service}/aws4_request`, canonical, ALGORITHM);
    return this.sign(stringToSign, { signingDate: parseAmzDate(longDate)!, signingRegion: scope.region, signingService: scope.service });
  }
}

interface Scope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

function parseCredential(credential: string): Scope | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts;
  return { accessKeyId, date, region, service };
}

/** `20261202T073858Z` → Date. */
function parseAmzDate(v: string | undefined): Date | undefined {
  const m = v && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/** Query string → decoded values, repeated keys as arrays (`+` stays `+`: S3 clients encode spaces as %20). */
function parseQuery(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const part of raw.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    const k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
    const v = i < 0 ? '' : decodeURIComponent(part.slice(i + 1));
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const headerValue = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

const sameSignature = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Verifies a request's SigV4 signature (header or presigned query) against `credentials`, as S3
 * does. `rawUrl` is the request target exactly as received (the path is signed as sent).
 */
export async function verifyS3Request(
  req: { readonly method: string; readonly rawUrl: string; readonly headers: IncomingHttpHeaders },
  credentials: S3Credentials,
  now: number = Date.now(),
): Promise<Verdict> {
  const q = req.rawUrl.indexOf('?');
  const path = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  let query: Record<string, string | string[]>;
  try {
    query = parseQuery(q < 0 ? '' : req.rawUrl.slice(q + 1));
  } catch {
    return deny('AuthorizationQueryParametersError', 'Malformed query string', 400);
  }
  const queryParam = (name: string) => {
    const key = Object.keys(query).find((k) => k.toLowerCase() === name);
    const v = key === undefined ? undefined : query[key];
    return Array.isArray(v) ? undefined : v;
  };
  const authorization = headerValue(req.headers, 'authorization');
  const presigned = queryParam('x-amz-signature') !== undefined;

  let scope: Scope | undefined;
  let signedHeaders: string[];
  let provided: string;
  let longDate: string | undefined;
  let payloadHash: string;
  if (authorization) {
    const m = /^AWS4-HMAC-SHA256 +Credential=([^, ]+), *SignedHeaders=([^, ]+), *Signature=([0-9a-f]{64})$/.exec(authorization.trim());
    if (!m) return deny('AccessDenied', 'Only AWS4-HMAC-SHA256 signatures are accepted');
    scope = parseCredential(m[1]);
    signedHeaders = m[2].split(';');
    provided = m[3];
    longDate = headerValue(req.headers, 'x-amz-date');
    const hash = headerValue(req.headers, 'x-amz-content-sha256');
    if (!hash) return deny('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400);
    payloadHash = hash;
    const date = parseAmzDate(longDate);
    if (!date) return deny('AccessDenied', 'AWS authentication requires a valid x-amz-date header');
    if (Math.abs(now - date.getTime()) > MAX_CLOCK_SKEW_MS)
      return deny('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  } else if (presigned) {
    if (queryParam('x-amz-algorithm') !== ALGORITHM) return deny('AuthorizationQueryParametersError', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256', 400);
    scope = parseCredential(queryParam('x-amz-credential') ?? '');
    signedHeaders = (queryParam('x-amz-signedheaders') ?? '').split(';');
    provided = queryParam('x-amz-signature') ?? '';
    longDate = queryParam('x-amz-date');
    payloadHash = headerValue(req.headers, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD';
    const date = parseAmzDate(longDate);
    const expires = Number(queryParam('x-amz-expires'));
    if (!date || !Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
      return deny('AuthorizationQueryParametersError', 'X-Amz-Date and X-Amz-Expires (1..604800) are required', 400);
    }
    if (date.getTime() - now > MAX_CLOCK_SKEW_MS) return deny('AccessDenied', 'Request is not valid yet');
    if (now > date.getTime() + expires * 1000) return deny('AccessDenied', 'Request has expired');
  } else {
    return deny('AccessDenied', 'Anonymous access is not allowed: sign requests with the local platform credentials');
  }

  if (!scope || !longDate) return deny('AuthorizationHeaderMalformed', 'Malformed credential scope', 400);
  if (scope.accessKeyId !== credentials.accessKeyId) return deny('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (scope.service !== 's3' || scope.date !== longDate.slice(0, 8))
    return deny('AuthorizationHeaderMalformed', 'The credential scope does not match this request', 400);
  if (!signedHeaders.includes('host')) return deny('AccessDenied', 'The host header must be signed');

  const canonicalHeaders: Record<string, string> = {};
  for (const name of signedHeaders) {
    const v = headerValue(req.headers, name);
    if (v === undefined) return deny('SignatureDoesNotMatch', `Signed header ${name} is missing`);
    canonicalHeaders[name] = v
      .replace(/[\r\n]/g, ' ')
      .replace(/[ \t]+/g, ' ')
      .replace(/^ | $/g, '');
  }
  const request = { method: req.method, protocol: 'http:', hostname: '', path, query, headers: {} } as unknown as HttpRequest;
  const expected = await new Verifier(credentials).signatureOf(request, canonicalHeaders, payloadHash, longDate, scope);
  if (!sameSignature(expected, provided)) {
    return deny('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { ok: true, payloadHash, presigned };
}

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function sendS3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
}

/** The request target without the presigned-URL parameters (s3rver would try to check them itself). */
function upstreamUrl(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  if (q < 0) return rawUrl;
  const kept = rawUrl
    .slice(q + 1)
    .split('&')
    .filter((p) => {
      const k = p.split('=')[0];
      let name = k;
      try {
        name = decodeURIComponent(k);
      } catch {
        /* kept as is: s3rver answers it */
      }
      return p && !PRESIGN_PARAMS.includes(name.toLowerCase());
    });
  return kept.length ? `${rawUrl.slice(0, q)}?${kept.join('&')}` : rawUrl.slice(0, q);
}

async function readAll(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** `x-amz-copy-source` (`[/]bucket/url-encoded-key[?versionId=…]`) → bucket and decoded key; undefined if malformed. */
export function copySourceOf(header: string): { bucket: string; key: string } | undefined {
  const q = header.indexOf('?');
  const path = (q < 0 ? header : header.slice(0, q)).replace(/^\//, '');
  const slash = path.indexOf('/');
  if (slash <= 0) return undefined;
  try {
    return { bucket: decodeURIComponent(path.slice(0, slash)), key: decodeURIComponent(path.slice(slash + 1)) };
  } catch {
    return undefined;
  }
}

/** Does an `If-Match` list (`"a", "b"`, `*`) match this ETag? */
export function etagMatches(ifMatch: string, etag: string | undefined): boolean {
  if (etag === undefined) return false;
  const norm = (t: string) => t.trim().replace(/^W\//, '').replace(/"/g, '');
  return ifMatch.split(',').some((t) => t.trim() === '*' || norm(t) === norm(etag));
}

const upstreamPath = (bucket: string, key: string) => `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;

function upstreamCall(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** Headers that travel with an object (what COPY keeps and REPLACE takes from the request). */
const OBJECT_HEADERS = ['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
const objectHeaders = (h: IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (OBJECT_HEADERS.includes(k) || k.startsWith('x-amz-meta-')) out[k] = Array.isArray(v) ? v.join(',') : v;
  }
  return out;
};

/** CopyObject as S3 performs it (see the module comment), on s3rver's GET and PUT. */
async function copyObject(port: number, copyHeader: string, headers: IncomingHttpHeaders, destPath: string, res: ServerResponse): Promise<void> {
  const src = copySourceOf(copyHeader);
  if (!src) return sendS3Error(res, 400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  const got = await upstreamCall(port, 'GET', upstreamPath(src.bucket, src.key));
  if (got.status === 404) return sendS3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  if (got.status !== 200) return sendS3Error(res, got.status, 'InternalError', 'The local S3 could not read the copy source');
  const ifMatch = headerValue(headers, 'x-amz-copy-source-if-match');
  if (ifMatch !== undefined && !etagMatches(ifMatch, headerValue(got.headers, 'etag'))) {
    return sendS3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  }
  const replace = headerValue(headers, 'x-amz-metadata-directive') === 'REPLACE';
  const put = await upstreamCall(port, 'PUT', destPath, { ...objectHeaders(replace ? headers : got.headers), 'content-length': got.body.length }, got.body);
  if (put.status !== 200) {
    res.writeHead(put.status, put.headers).end(put.body);
    return;
  }
  const etag = headerValue(put.headers, 'etag') ?? '';
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><LastModified>${new Date().toISOString()}</LastModified><ETag>${xmlEscape(etag)}</ETag></CopyObjectResult>`;
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
}

export interface S3FrontOptions {
  /** Where the front listens (loopback: devices never need S3). */
  readonly host: string;
  readonly port: number;
  /** s3rver's internal loopback port. */
  readonly upstreamPort: number;
  readonly credentials: S3Credentials;
  /** Clock (tests). */
  readonly now?: () => number;
}

export interface S3Front {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startS3Front(opts: S3FrontOptions): Promise<S3Front> {
  const now = opts.now ?? Date.now;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawUrl = req.url ?? '/';
    const verdict = await verifyS3Request({ method: req.method ?? 'GET', rawUrl, headers: req.headers }, opts.credentials, now());
    if (!verdict.ok) {
      req.resume();
      return sendS3Error(res, verdict.status, verdict.code, verdict.message);
    }
    // A signed payload hash binds the body too (as S3 checks it): verify before s3rver stores anything.
    let body: Buffer | undefined;
    if (/^[0-9a-f]{64}$/.test(verdict.payloadHash)) {
      body = await readAll(req, MAX_HASHED_BODY_BYTES);
      if (!body) return sendS3Error(res, 400, 'EntityTooLarge', 'Your proposed upload exceeds the local maximum allowed size');
      if (createHash('sha256').update(body).digest('hex') !== verdict.payloadHash) {
        return sendS3Error(res, 400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
    }
    const headers = { ...req.headers };
    delete headers.authorization; // s3rver knows only its own fixed key; the front has already authenticated the request
    const copyHeader = headerValue(req.headers, 'x-amz-copy-source');
    if (copyHeader !== undefined && req.method === 'PUT' && !/[?&]uploadId=/.test(rawUrl)) {
      req.resume();
      return copyObject(opts.upstreamPort, copyHeader, req.headers, upstreamUrl(rawUrl), res);
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: opts.upstreamPort, method: req.method, path: upstreamUrl(rawUrl), headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : sendS3Error(res, 503, 'ServiceUnavailable', 'The local S3 is not answering')));
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => (res.headersSent ? res.destroy() : sendS3Error(res, 500, 'InternalError', 'The local S3 front failed')));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
