/**
 * The one domain error type. Core and handlers throw it; `lambdas/shared/http.ts` maps `kind`
 * to an HTTP status in one place. Anything that is not a DomainError is an infrastructure fault.
 */
export type DomainErrorKind =
  | 'invalid' // malformed or out-of-range input → 400
  | 'unauthorized' // credentials missing or wrong → 401
  | 'not_found' // → 404
  | 'conflict' // state forbids the operation → 409
  | 'too_large' // → 413
  | 'unsupported_media_type'; // → 415

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable machine-readable code, e.g. `invalid_json`, `version_exists`. */
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
