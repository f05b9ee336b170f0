/**
 * The one structured logger, on Powertools Logger: a JSON line per entry (`level`, `message`,
 * `service`, `timestamp`, …), with per-request keys (request id, device, deployment) appended by
 * handlers. The API is deliberately this module's own (`createLogger`, `appendKeys`, `resetKeys`,
 * `error(message, error, extra)`), so callers never import Powertools and it could be swapped again.
 *
 * - Level: Powertools reads `POWERTOOLS_LOG_LEVEL`, then `LOG_LEVEL` (default INFO); Lambda's
 *   advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`) take precedence when set.
 * - `OTA_SILENT=1` silences every line. It is read on every call (as the previous logger did), so a
 *   test that sets it after importing a handler is still silent.
 * - ERROR/WARN go to stderr, INFO/DEBUG to stdout (Powertools' console mapping).
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';

const silent = (): boolean => process.env.OTA_SILENT === '1';

/** An `Error` is formatted by Powertools (`name`, `location`, `message`, `stack`, `cause`); anything else thrown becomes `{ message }`. */
const errorValue = (e: unknown): Error | { message: string } => (e instanceof Error ? e : { message: String(e) });

export class Logger {
  /** The Powertools instance underneath (e.g. for `injectLambdaContext`); prefer this class's methods. */
  readonly powertools: PowertoolsLogger;

  constructor(service: string) {
    this.powertools = new PowertoolsLogger({ serviceName: service, ...(silent() ? { logLevel: 'SILENT' as const } : {}) });
  }

  /** Keys added to every following line until `resetKeys` (call at the start of each invocation). */
  appendKeys(keys: Record<string, unknown>): void {
    this.powertools.appendKeys(keys);
  }
  /** Drops every key added with `appendKeys`. */
  resetKeys(): void {
    this.powertools.resetKeys();
  }
  debug(message: string, extra?: Record<string, unknown>): void {
    if (!silent()) this.powertools.debug(message, ...(extra ? [extra] : []));
  }
  info(message: string, extra?: Record<string, unknown>): void {
    if (!silent()) this.powertools.info(message, ...(extra ? [extra] : []));
  }
  warn(message: string, extra?: Record<string, unknown>): void {
    if (!silent()) this.powertools.warn(message, ...(extra ? [extra] : []));
  }
  /** Logs `error` (an `Error` with its stack and cause, or any thrown value) under the `error` key. */
  error(message: string, error?: unknown, extra?: Record<string, unknown>): void {
    if (silent()) return;
    // Powertools takes either one Error or attribute objects as extra input, not both: pass the
    // error as an attribute; its JSON replacer formats an Error wherever it sits.
    this.powertools.error({ message, ...extra, ...(error === undefined ? {} : { error: errorValue(error) }) });
  }
}

export const createLogger = (service: string): Logger => new Logger(service);
