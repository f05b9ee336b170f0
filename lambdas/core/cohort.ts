/**
 * Deterministic canary cohorts: `bucket = first 32 bits of sha256(seed + ":" + deviceId) mod
 * 10000`; a device is in when `bucket < percentage × 100`. Same device + seed → same bucket,
 * always, so raising the percentage only ever adds devices.
 */
import { createHash } from 'node:crypto';

export function cohortBucket(seed: string, deviceId: string): number {
  return createHash('sha256').update(`${seed}:${deviceId}`, 'utf8').digest().readUInt32BE(0) % 10000;
}

/** 0–100 with two decimals → 0–10000 basis points. */
export function percentageToBasisPoints(p: number): number {
  const bp = Math.round(p * 100);
  if (!Number.isFinite(bp) || bp < 0 || bp > 10000) throw new RangeError(`percentage out of range: ${p}`);
  return bp;
}

export const inCohort = (seed: string, deviceId: string, percentage: number): boolean => cohortBucket(seed, deviceId) < percentageToBasisPoints(percentage);
