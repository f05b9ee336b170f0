/**
 * Which build, if any, to offer a device: the rules of the native check, shared by every
 * protocol adapter. Pure.
 */
import { passesAntiRollback } from './anti-rollback';
import { inCohort } from './cohort';
import type { Chip, Compatibility, Deployment, DeviceHardware } from './model';
import { compareVersions, isNewerVersion } from './version';

export interface DeviceView {
  readonly deviceId: string;
  readonly channel: string;
  readonly currentBuild?: number;
  readonly currentVersion?: string;
  readonly hw: DeviceHardware;
  readonly failedBuilds: readonly number[];
  readonly groups?: readonly string[];
  /** Highest anti-rollback `secure_version` the device is known to hold. */
  readonly secureVersion?: number;
}

/** Why nothing is offered, most specific first reached. */
export type NoOfferReason = 'no_deployment' | 'incompatible' | 'up_to_date' | 'failed_before' | 'not_in_cohort';
export type Selection = { readonly kind: 'offer'; readonly deployment: Deployment } | { readonly kind: 'none'; readonly reason: NoOfferReason };

const canonicalChip = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');

/**
 * A device that reports its chip must report the product's chip (`ESP32-S3` == `esp32s3`); a
 * build made for certain boards goes only to devices that report one of them.
 */
export function isCompatible(hw: DeviceHardware, productChip: Chip, boards?: readonly string[]): boolean {
  if (hw.chip !== undefined && canonicalChip(hw.chip) !== canonicalChip(productChip)) return false;
  if (!boards?.length || hw.board === undefined) return true;
  const board = hw.board.toLowerCase();
  return boards.some((b) => b.toLowerCase() === board);
}

/** The firmware's own compatibility rules: hardware revision range and the version the device must already run. */
export function meetsCompatibility(c: Compatibility | undefined, device: Pick<DeviceView, 'hw' | 'currentVersion'>): boolean {
  if (!c) return true;
  if (c.hwRevisionMin !== undefined || c.hwRevisionMax !== undefined) {
    const rev = Number(device.hw.revision);
    if (device.hw.revision === undefined || !Number.isFinite(rev)) return false; // unknown revision: not provably in range
    if (c.hwRevisionMin !== undefined && rev < c.hwRevisionMin) return false;
    if (c.hwRevisionMax !== undefined && rev > c.hwRevisionMax) return false;
  }
  if (c.minVersion !== undefined) {
    if (device.currentVersion === undefined) return false;
    if (device.currentVersion !== c.minVersion && isNewerVersion(c.minVersion, device.currentVersion)) return false;
  }
  return true;
}

/** A deployment that names groups targets only devices in one of them. */
export const inGroups = (d: Deployment, device: Pick<DeviceView, 'groups'>): boolean =>
  !d.groups?.length || (device.groups ?? []).some((g) => d.groups!.includes(g));

export function isNewerBuild(d: Deployment, device: Pick<DeviceView, 'currentBuild' | 'currentVersion'>): boolean {
  return device.currentBuild !== undefined ? d.build > device.currentBuild : isNewerVersion(d.firmware.version, device.currentVersion);
}

const REASON_ORDER: readonly NoOfferReason[] = ['no_deployment', 'incompatible', 'up_to_date', 'failed_before', 'not_in_cohort'];

/**
 * Active deployments in the device's channel (and groups) → compatible (chip, boards, hardware
 * revision, minimum version, secure_version) → newer than what it runs → not a build it failed → device in the
 * cohort. A required step among them wins; else the highest build; equal builds → oldest deployment.
 * `order: 'next'` picks the lowest eligible version instead (sequential updates, FireFly).
 */
export function selectOffer(input: {
  device: DeviceView;
  productChip: Chip;
  deployments: readonly Deployment[];
  order?: 'latest' | 'next';
  /** A protocol's own limit on what its clients can install (esp32FOTA: versions it can order); false = skip that deployment. */
  accepts?: (d: Deployment) => boolean;
}): Selection {
  const { device } = input;
  let furthest = 0; // index into REASON_ORDER of the furthest filter any deployment reached
  const eligible: Deployment[] = [];
  for (const d of input.deployments) {
    if (d.state !== 'active' || d.channel !== device.channel || !inGroups(d, device)) continue;
    if (input.accepts && !input.accepts(d)) continue;
    furthest = Math.max(furthest, 1);
    if (!isCompatible(device.hw, input.productChip, d.firmware.boards) || !meetsCompatibility(d.firmware.compatibility, device)) continue;
    // The bootloader would refuse it: the offer could only count as a failure.
    if (!passesAntiRollback(d.firmware.secureVersion, device.secureVersion)) continue;
    furthest = Math.max(furthest, 2);
    if (!isNewerBuild(d, device)) continue;
    furthest = Math.max(furthest, 3);
    if (device.failedBuilds.includes(d.build)) continue;
    furthest = Math.max(furthest, 4);
    if (!inCohort(d.seed, device.deviceId, d.percentage)) continue;
    eligible.push(d);
  }
  if (!eligible.length) return { kind: 'none', reason: REASON_ORDER[furthest] };
  // Must-pass-through builds come first: the lowest eligible required step, before anything newer.
  const required = eligible.filter((d) => d.firmware.compatibility?.requiredStep);
  if (required.length) {
    required.sort((a, b) => compareVersions(a.firmware.version, b.firmware.version) || a.build - b.build || a.createdAt.localeCompare(b.createdAt));
    return { kind: 'offer', deployment: required[0]! };
  }
  // `next` is sequential by version (a hotfix 1.1.1 uploaded after 1.2.0 still comes first), then build.
  const order =
    input.order === 'next'
      ? (a: Deployment, b: Deployment) => compareVersions(a.firmware.version, b.firmware.version) || a.build - b.build
      : (a: Deployment, b: Deployment) => b.build - a.build;
  eligible.sort((a, b) => order(a, b) || a.createdAt.localeCompare(b.createdAt) || a.deploymentId.localeCompare(b.deploymentId));
  return { kind: 'offer', deployment: eligible[0] };
}
