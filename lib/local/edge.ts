/**
 * The local CDN: verifies CloudFront canned-policy signed URLs exactly as CloudFront does, then
 * streams the object from the local firmware bucket — with Content-Length, Range → 206 and HEAD,
 * which Arduino HTTPUpdate and esp_https_ota rely on. Anything unsigned, tampered or expired → 403.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEVICE_URL_PARAM, parseFirmwareObjectKey, type ServedDownload } from '../../lambdas/core/download';

export interface EdgeOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly keyPairId: string;
  readonly publicKeyPem: string;
  readonly host: string;
  readonly port: number;
  /** Host name put into URLs (defaults to the bind host, or 127.0.0.1 for a wildcard bind). */
  readonly publicHost?: string;
  readonly now?: () => number;
  /**
   * Told of every GET it served once the response ended (whole or aborted) — the local twin of
   * CloudFront's standard logs. Its failures never affect serving.
   */
  readonly onDownload?: (d: ServedDownload) => void | Promise<void>;
}

export interface Edge {
  /** `http://host:port` — the CDN_BASE_URL handlers sign against. */
  readonly baseUrl: string;
  readonly server: Server;
  stop(): Promise<void>;
}

const SIGNING_PARAMS = new Set(['Expires', 'Signature', 'Key-Pair-Id', 'Policy']);

/** CloudFront's URL-safe base64: `+`→`-`, `=`→`_`, `/`→`~`. */
const fromCloudFrontBase64 = (s: string): Buffer => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');

export type SignatureCheck = { ok: true; objectKey: string } | { ok: false; reason: string };

/** Verifies a canned-policy signed request URL (`/path?…`) against the edge's base URL and public key. */
export function verifySignedRequest(rawUrl: string, opts: { baseUrl: string; keyPairId: string; publicKey: KeyObject; nowSeconds: number }): SignatureCheck {
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q + 1);
  const params = new URLSearchParams(query);
  const expires = params.get('Expires');
  const signature = params.get('Signature');
  const keyPairId = params.get('Key-Pair-Id');
  if (params.has('Policy')) return { ok: false, reason: 'custom policies are not used by this platform' };
  if (!expires || !signature || !keyPairId) return { ok: false, reason: 'missing signature parameters' };
  if (keyPairId !== opts.keyPairId) return { ok: false, reason: 'unknown key pair id' };
  if (!/^\d{1,12}$/.test(expires)) return { ok: false, reason: 'malformed Expires' };
  if (Number(expires) <= opts.nowSeconds) return { ok: false, reason: 'expired' };
  // The resource is the URL as signed: base + path + any non-signing query parameters, in order.
  const rest = query
    .split('&')
    .filter((kv) => kv && !SIGNING_PARAMS.has(decodeURIComponent(kv.split('=')[0])))
    .join('&');
  const resource = `${opts.baseUrl}${rawPath}${rest ? `?${rest}` : ''}`;
  const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${Number(expires)}}}}]}`;
  const valid = verify('RSA-SHA1', Buffer.from(policy), opts.publicKey, fromCloudFrontBase64(signature));
  if (!valid) return { ok: false, reason: 'signature mismatch' };
  let objectKey: string;
  try {
    objectKey = decodeURIComponent(rawPath.replace(/^\/+/, ''));
  } catch {
    return { ok: false, reason: 'malformed path' };
  }
  return { ok: true, objectKey };
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/** One `bytes=` range against a known size (suffix and open ranges included); undefined → whole object. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // multi-range or malformed: serve it all (RFC 9110 allows)
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

function deny(res: ServerResponse, reason: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied: ${reason}</Message></Error>`;
  res.writeHead(403, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startEdge(opts: EdgeOptions): Promise<Edge> {
  const publicKey = createPublicKey(opts.publicKeyPem);
  const now = opts.now ?? Date.now;
  let baseUrl = '';

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const check = verifySignedRequest(req.url ?? '/', { baseUrl, keyPairId: opts.keyPairId, publicKey, nowSeconds: Math.floor(now() / 1000) });
    if (!check.ok) return deny(res, check.reason);
    if (req.method === 'GET') recordWhenDone(req, res, check.objectKey);

    // The common case (a whole-object GET) is one request to the local S3; ranges and HEAD need the size first.
    if (req.method === 'GET' && !req.headers.range) return streamWhole(res, check.objectKey);

    let head;
    try {
      head = await opts.s3.send(new HeadObjectCommand({ Bucket: opts.bucket, Key: check.objectKey }));
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) {
        res.writeHead(404, { 'content-type': 'text/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
        return;
      }
      throw e;
    }
    const size = Number(head.ContentLength ?? 0);
    const range = parseRange(req.headers.range, size);
    const common = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      ...(head.ETag ? { etag: head.ETag } : {}),
      ...(head.LastModified ? { 'last-modified': head.LastModified.toUTCString() } : {}),
    };
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...common, 'content-range': `bytes */${size}`, 'content-length': 0 }).end();
      return;
    }
    const status = range ? 206 : 200;
    const length = range ? range.end - range.start + 1 : size;
    res.writeHead(status, {
      ...common,
      'content-length': length,
      ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${size}` } : {}),
    });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    // Always ask the local S3 for an explicit range: s3rver mishandles suffix ranges.
    const obj = await opts.s3.send(
      new GetObjectCommand({ Bucket: opts.bucket, Key: check.objectKey, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
    );
    const body = obj.Body as Readable;
    body.on('error', () => res.destroy());
    body.pipe(res);
  };

  /** Reports the GET once its response ended: how many body bytes went out and whether all of them did. */
  function recordWhenDone(req: IncomingMessage, res: ServerResponse, objectKey: string): void {
    const file = parseFirmwareObjectKey(objectKey);
    if (!opts.onDownload || !file) return;
    const deviceId = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get(DEVICE_URL_PARAM) ?? undefined;
    let finished = false;
    res.once('finish', () => (finished = true));
    res.once('close', () => {
      if (res.statusCode !== 200 && res.statusCode !== 206) return;
      // An aborted response delivered an unknown part of its body: only a finished one counts its bytes.
      const bytes = finished ? Number(res.getHeader('content-length') ?? 0) : 0;
      const range = /^bytes (\d+)-(\d+)\//.exec(String(res.getHeader('content-range') ?? ''));
      const download: ServedDownload = {
        ...file,
        ...(deviceId ? { deviceId } : {}),
        at: new Date(now()).toISOString(),
        status: res.statusCode,
        bytes,
        ...(range && finished ? { rangeEnd: Number(range[2]) } : {}),
        complete: finished && res.statusCode === 200,
      };
      Promise.resolve()
        .then(() => opts.onDownload!(download))
        .catch((e) => process.stderr.write(`edge: download record failed: ${(e as Error).message}\n`));
    });
  }

  async function streamWhole(res: ServerResponse, key: string): Promise<void> {
    let obj;
    try {
      obj = await opts.s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: key }));
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        res.writeHead(404, { 'content-type': 'text/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
        return;
      }
      throw e;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'content-length': Number(obj.ContentLength ?? 0),
      ...(obj.ETag ? { etag: obj.ETag } : {}),
      ...(obj.LastModified ? { 'last-modified': obj.LastModified.toUTCString() } : {}),
    });
    const body = obj.Body as Readable;
    body.on('error', () => res.destroy());
    body.pipe(res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      process.stderr.write(`edge: ${(e as Error).message}\n`);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.publicHost ?? (opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host);
  baseUrl = `http://${host}:${port}`;
  return {
    baseUrl,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
