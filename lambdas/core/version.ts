/**
 * Firmware version ordering across the schemes fleets use: semver (`1.2.3-rc.1+sha`), calendar
 * (`2026.03.001`) and plain numbers (`42`), with an optional leading `v`. Segments compare as
 * numbers, so `1.10.0` > `1.9.0` and `2026.03.010` > `2026.03.002`.
 */
import { DomainError } from './errors';

export interface ParsedVersion {
  /** Numeric dotted core, 1..4 segments. */
  readonly core: readonly number[];
  /** Semver prerelease identifiers (empty for a release). */
  readonly prerelease: readonly (string | number)[];
}

const VERSION_RE = /^[vV]?(\d{1,10}(?:\.\d{1,10}){0,3})(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function parseVersion(s: string): ParsedVersion | undefined {
  if (typeof s !== 'string' || s.length === 0 || s.length > 64) return undefined;
  const m = VERSION_RE.exec(s);
  if (!m) return undefined;
  const core = m[1].split('.').map(Number);
  const prerelease = m[2] ? m[2].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [];
  return { core, prerelease };
}

export const isValidVersion = (s: string): boolean => parseVersion(s) !== undefined;

const sign = (n: number): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);

function comparePrerelease(a: readonly (string | number)[], b: readonly (string | number)[]): -1 | 0 | 1 {
  if (!a.length || !b.length) return sign(b.length - a.length); // a release outranks any prerelease
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return sign(x - y);
    if (typeof x === 'number') return -1; // numeric identifiers sort before alphanumeric ones
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return sign(a.length - b.length);
}

export function compareParsed(a: ParsedVersion, b: ParsedVersion): -1 | 0 | 1 {
  for (let i = 0; i < Math.max(a.core.length, b.core.length); i++) {
    const d = (a.core[i] ?? 0) - (b.core[i] ?? 0);
    if (d) return sign(d);
  }
  return comparePrerelease(a.prerelease, b.prerelease);
}

/** Orders two versions; throws DomainError `invalid_version` when either is unparsable. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) throw new DomainError('invalid', 'invalid_version', `Not a version: ${JSON.stringify(pa ? b : a)}`);
  return compareParsed(pa, pb);
}

/**
 * Is `candidate` newer than what the device runs? Unknown current → yes. An unparsable current
 * version → only if it differs from the candidate, so a device with a garbage version string is
 * updated once and never looped.
 */
export function isNewerVersion(candidate: string, current: string | undefined): boolean {
  if (current === undefined) return true;
  const pc = parseVersion(current);
  const pn = parseVersion(candidate);
  if (!pc || !pn) return candidate !== current;
  return compareParsed(pn, pc) > 0;
}

/**
 * The identity of a version: what makes two uploads "the same version" (`version_exists`).
 * A leading `v` and semver build metadata (`+5`, which semver gives no precedence) do not change
 * what a version means, so `v1.3.0`, `1.3.0` and `1.3.0+5` are one identity. Numeric segments
 * are kept as written so identities of already-recorded versions stay stable. An unparsable
 * string is its own identity.
 */
export function versionIdentity(s: string): string {
  if (!isValidVersion(s)) return s;
  return s.replace(/^[vV]/, '').replace(/\+.*$/, '');
}
