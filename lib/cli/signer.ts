/**
 * SigV4 for the operator API (API Gateway HTTP API, IAM authorisation: service `execute-api`).
 * Pure apart from the credentials provider, so it is unit-testable with static credentials.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export const EXECUTE_API = 'execute-api';

/** What SigV4 needs (structurally the SDK's AwsCredentialIdentity; a provider is called per signature and caches itself). */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type CredentialsProvider = () => Promise<Credentials>;

export interface SignerOptions {
  readonly region: string;
  readonly credentials: Credentials | CredentialsProvider;
  readonly service?: string;
}

export interface UnsignedRequest {
  readonly method: string;
  /** Full URL; its path must already be percent-encoded once (as sent on the wire). */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** Signs a request; returns the headers to send (the `host` header is left to fetch, which derives the same value from the URL). */
export type RequestSigner = (req: UnsignedRequest, signingDate?: Date) => Promise<Record<string, string>>;

/**
 * The standard execute-api signature: the path segments are encoded twice in the canonical
 * request (`uriEscapePath`, the rule for every service but S3), the query is canonicalised
 * from the decoded parameters, the body hash is part of the signature.
 */
export function createSigner(opts: SignerOptions): RequestSigner {
  const signer = new SignatureV4({
    service: opts.service ?? EXECUTE_API,
    region: opts.region,
    credentials: opts.credentials,
    sha256: Sha256,
    uriEscapePath: true,
  });
  return async (req, signingDate) => {
    const url = new URL(req.url);
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const request = new HttpRequest({
      method: req.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { ...lowerCaseKeys(req.headers), host: url.host },
      ...(req.body !== undefined ? { body: req.body } : {}),
    });
    const signed = (await signer.sign(request, signingDate ? { signingDate } : undefined)) as HttpRequest;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') out[k] = v;
    return out;
  };
}

const lowerCaseKeys = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

/** `abc123.execute-api.eu-west-1.amazonaws.com` → `eu-west-1` (undefined for custom domains and local hosts). */
export function regionFromHost(hostname: string): string | undefined {
  const m = /\.(?:execute-api|s3)[.-]([a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?$/.exec(hostname.toLowerCase());
  return m?.[1];
}

/** Loopback hosts are the local platform: no credentials, no signature. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}
