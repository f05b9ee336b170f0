/**
 * Reads and checks a function's configuration once, at init. A missing variable is a deployment
 * bug: fail the cold start loudly rather than half-serve devices.
 */
import { ENV } from './env';

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`Missing required environment variable ${name}`);
  return v;
}

export function numberEnv(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`Environment variable ${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

export interface TableNames {
  readonly firmware: string;
  readonly deployments: string;
  readonly devices: string;
}

/** Table names of the tables a function was bound to (only those it asks for). */
export function tableNames<K extends keyof TableNames>(...which: K[]): Pick<TableNames, K> {
  const envOf: Record<keyof TableNames, string> = {
    firmware: ENV.FIRMWARE_TABLE,
    deployments: ENV.DEPLOYMENTS_TABLE,
    devices: ENV.DEVICES_TABLE,
  };
  const out = {} as Pick<TableNames, K>;
  for (const k of which) (out as Record<string, string>)[k] = requireEnv(envOf[k]);
  return out;
}

/** Seconds a container trusts cached product/deployment config. */
export const configCacheTtlMs = (): number => numberEnv(ENV.CONFIG_CACHE_TTL_SECONDS, 5) * 1000;
