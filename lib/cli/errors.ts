/** Errors `otactl` reports as one line on stderr with an exit code (never a stack trace). */

/** A usage or environment problem (bad flag value, unreadable file, unreachable endpoint). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The operator API answered with an error: `{ "error": { "code", "message" } }` (or API Gateway's `{ "message" }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The parsed response body (printed as is with `--json`). */
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;
