/**
 * Every function's timeout and every AWS client's time budget, in one place: the CDK constructs
 * (lib/constructs/ota-function.ts) and the local gateway (lib/local/gateway.ts) both read the
 * function timeouts from here, and the clients' budgets are sized to fit well inside them, so a
 * sick dependency ends in our own 503 + Retry-After, never in a Lambda timeout.
 * Pure data: no AWS imports.
 */

/** Function timeouts (seconds), by handler entry under `lambdas/handlers/`. */
export const FUNCTION_TIMEOUT_SECONDS = {
  check: 10,
  status: 10,
  activation: 10,
  admin: 10,
  /** S3 ingest events (scans and copies whole images); the IoTaaP HTTP upload is also capped by API Gateway below. */
  upload: 300,
  rollout: 50,
  /** CloudFront log files (S3 events, async): one GetObject per file, then a conditional write per whole download. */
  'download-log': 120,
} as const;
export type TimedFunction = keyof typeof FUNCTION_TIMEOUT_SECONDS;

/** API Gateway HTTP API gives up on an integration after 30 s, whatever the function's own timeout. */
export const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 30;

/** The timeout of the function behind `lambdas/handlers/<name>.ts`, if it is one of ours. */
export const functionTimeoutSeconds = (name: string): number | undefined =>
  Object.prototype.hasOwnProperty.call(FUNCTION_TIMEOUT_SECONDS, name) ? FUNCTION_TIMEOUT_SECONDS[name as TimedFunction] : undefined;

/** How long one AWS SDK call may take in total. */
export interface ClientBudget {
  /** TCP (+TLS) connect, ms. */
  readonly connectionTimeoutMs: number;
  /** One attempt, request sent to response received, ms. */
  readonly requestTimeoutMs: number;
  /** Attempts including the first (SDK standard retries, jittered backoff ≤ ~0.2 s between them here). */
  readonly maxAttempts: number;
}

/** Worst case of one call: every attempt connects slowly and then times out, plus backoff. */
export const worstCaseMs = (b: ClientBudget, backoffMs = 250): number =>
  b.maxAttempts * (b.connectionTimeoutMs + b.requestTimeoutMs) + (b.maxAttempts - 1) * backoffMs;

/**
 * DynamoDB: one client per container, shared by every function (locally by all of them in one
 * process), so it fits the tightest one, the 10 s device functions. A device item read takes
 * ~5 ms; 2 × (1 s + 1.5 s) + 0.25 s = 5.25 s worst case per call, so even a check whose first call
 * hangs answers 503 + Retry-After in ~5 s, well inside 10 s.
 */
export const DYNAMODB_BUDGET: ClientBudget = { connectionTimeoutMs: 1000, requestTimeoutMs: 1500, maxAttempts: 2 };

/**
 * S3: the upload function (300 s) uses it for whole-image reads and copies; an attempt may
 * move megabytes. 3 × (1 s + 20 s) + 2 × 0.25 s = 63.5 s worst case per call. The download-log
 * function (120 s) makes one such call per log file, so it still has ~55 s for its table writes.
 */
export const S3_BUDGET: ClientBudget = { connectionTimeoutMs: 1000, requestTimeoutMs: 20_000, maxAttempts: 3 };

/**
 * Secrets Manager: the signing key, read once per container by check and status (10 s).
 * 2 × (1 s + 2 s) + 0.25 s = 6.25 s worst case, inside 10 s; a failed read is retried on the next call.
 */
export const SECRETS_BUDGET: ClientBudget = { connectionTimeoutMs: 1000, requestTimeoutMs: 2000, maxAttempts: 2 };

/** The SDK client options for a budget (`requestHandler` as options: no extra import of the HTTP handler). */
/** KMS Sign / GetPublicKey: small requests; signing happens in the ingest pipeline, never on a device path. */
export const KMS_BUDGET: ClientBudget = { connectionTimeoutMs: 1000, requestTimeoutMs: 3000, maxAttempts: 3 };

export const clientTimeouts = (b: ClientBudget) => ({
  maxAttempts: b.maxAttempts,
  requestHandler: { connectionTimeout: b.connectionTimeoutMs, requestTimeout: b.requestTimeoutMs, throwOnRequestTimeout: true },
});
