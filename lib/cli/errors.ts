/** Errors `otactl` reports as one line on stderr with an exit code (never a stack trace). */

/**
 * Exit codes (README, `otactl --help`): scripts can tell a typo from a failed request from a
 * rollout that is not done yet.
 */
export const EXIT = {
  OK: 0,
  /** The API refused (4xx/5xx), the endpoint is unreachable, an upload was rejected, a file is unreadable. */
  ERROR: 1,
  /** The command line is wrong: unknown command or option, missing or invalid value. Nothing was sent. */
  USAGE: 2,
  /** Not finished: `publish` got no verdict within --timeout; `deploy status --watch` stopped on a paused/cancelled deployment. */
  UNFINISHED: 3,
  INTERRUPTED: 130,
} as const;

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

/** The command line is wrong (exit code 2): a bad flag value, a missing or conflicting flag. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;
