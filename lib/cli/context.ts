/** What every command function gets injected: the API client, where output goes, `--json`. */
import type { ApiClient } from './api';
import { UsageError } from './errors';
import { printJson, type Output } from './output';

export interface Ctx {
  readonly api: ApiClient;
  readonly out: Output;
  /** Raw API JSON on stdout instead of tables. */
  readonly json: boolean;
}

/** Prints the raw JSON (`--json`) or the human rendering; returns the data for callers/tests. */
export function emit<T>(ctx: Ctx, data: T, human: (d: T) => string): T {
  if (ctx.json) printJson(ctx.out, data);
  else {
    const text = human(data);
    ctx.out.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
  return data;
}

/** Parsers for flag values (commander hands over strings); a bad value is a usage error (exit 2). */
export function parseIntArg(name: string, min = Number.MIN_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`${name} must be an integer, got "${v}"`);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

export function parseNumberArg(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} must be a number, got "${v}"`);
    return n;
  };
}

export function parseBoolArg(name: string): (v: string) => boolean {
  return (v) => {
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    throw new UsageError(`${name} must be true or false, got "${v}"`);
  };
}

/** `a,b , c` → ['a','b','c'] (empty items dropped). */
export const parseList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Repeatable `--tag k=v`: accumulates into a record. */
export function collectKeyValue(v: string, prev: Record<string, string> = {}): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0) throw new UsageError(`--tag expects key=value, got "${v}"`);
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
}
