/**
 * The protocol-independent update check: given what the device says, what we know of it and the
 * product's deployments, decide the outcome and the (minimal) device write. Pure: handlers for
 * every device protocol call this and only do I/O around it.
 */
import { passesAntiRollback } from './anti-rollback';
import {
  DEFAULT_CHANNEL,
  OPEN_ASSIGNMENT_STATES,
  type Deployment,
  type Device,
  type DeviceHardware,
  type InferenceReason,
  type OfferedBuild,
  type OfferRecord,
  type Product,
} from './model';
import { selectOffer, type NoOfferReason } from './select';
import { compareVersions, parseVersion } from './version';

/** What a device told us in a check, already validated and normalised. */
export interface CheckInput {
  readonly deviceId: string;
  readonly version?: string;
  readonly build?: number;
  readonly hw: DeviceHardware;
  readonly channel?: string;
  /** The anti-rollback `secure_version` the device reports (`esp_app_desc_t.secure_version` of the running app). */
  readonly secureVersion?: number;
  /** Further facts the device reports about itself (Cheeko: flash size, chip model…). */
  readonly info?: Readonly<Record<string, string | number>>;
}

/** What is offered: a deployment's build, or the build an operator assigned to this device. */
export interface Offer {
  readonly build: number;
  readonly firmware: OfferedBuild;
  readonly deploymentId?: string;
  readonly assignmentId?: string;
  /** Install without asking (the deployment's or the build's `force`). */
  readonly force?: boolean;
}

export type CheckStatus = 'update_available' | 'no_update' | 'inactive' | 'unknown_product' | 'unknown_device' | 'over_limit';

export type CheckDecision =
  | { readonly status: 'update_available'; readonly offer: Offer; readonly firstOffer: boolean }
  | { readonly status: 'no_update'; readonly reason: NoOfferReason }
  | { readonly status: 'inactive' | 'unknown_product' | 'unknown_device' | 'over_limit' };

export type DeviceWrite =
  { readonly kind: 'none' } | { readonly kind: 'register'; readonly device: Device } | { readonly kind: 'update'; readonly patch: Partial<Device> };

/** An outcome of the device's open offer that this check-in proves (settled before the device write). */
export interface InferredOutcome {
  readonly build: number;
  readonly deploymentId: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly reason: InferenceReason;
  /** Version of the offered build (a success makes it the device's current version). */
  readonly version?: string;
}

export interface CheckPlan {
  readonly decision: CheckDecision;
  readonly write: DeviceWrite;
  readonly inferred?: InferredOutcome;
  /** The device's assignment moves: `delivered` when first handed out, `applied` once the device runs it. */
  readonly assignment?: { readonly assignmentId: string; readonly to: 'delivered' | 'applied' };
}

/** Same version by meaning (`v1.0.1` = `1.0.1`), not only by spelling. */
function sameVersion(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a === b) return true;
  return parseVersion(a) !== undefined && parseVersion(b) !== undefined && compareVersions(a, b) === 0;
}

function assignmentTransition(device: Device | undefined, decision: CheckDecision, currentBuild?: number, currentVersion?: string): CheckPlan['assignment'] {
  const a = device?.assignment;
  if (!a || !OPEN_ASSIGNMENT_STATES.includes(a.state)) return undefined;
  if (currentBuild === a.build || sameVersion(currentVersion, a.firmware.version)) return { assignmentId: a.assignmentId, to: 'applied' };
  if (a.state === 'pending' && decision.status === 'update_available' && decision.offer.assignmentId === a.assignmentId) {
    return { assignmentId: a.assignmentId, to: 'delivered' };
  }
  return undefined;
}

export interface PlanCheckArgs {
  readonly product: Product | undefined;
  readonly device: Device | undefined;
  readonly input: CheckInput;
  readonly deployments: readonly Deployment[];
  readonly now: Date;
  /** A known, unchanged device's lastSeen is rewritten only when older than this. */
  readonly lastSeenWriteIntervalMs: number;
  /** `next`: the lowest eligible build (sequential updates, FireFly); default the highest. */
  readonly order?: 'latest' | 'next';
  /** The protocol's own limit on installable builds (see selectOffer). */
  readonly accepts?: (d: Deployment) => boolean;
  /** The protocol's clients strip an esp32FOTA signature prefix (esp32FOTA); others would write it to flash as the image. */
  readonly takesEsp32FotaSigned?: boolean;
  /** The protocol never says what the device runs (IoTaaP): a call after a completed download is the only evidence of success. */
  readonly versionless?: boolean;
}

/**
 * What this check-in says about the device's open offer. On the offered build (by build, or by
 * version for protocols that send only a version): succeeded. After the CDN delivered the whole
 * image, back on the version it ran when offered: failed (the install did not take). A protocol
 * that never sends a version can only call again after the download: counted as a success, the
 * best evidence there is.
 */
export function inferOutcome(
  offer: OfferRecord | undefined,
  input: CheckInput,
  currentBuild: number | undefined,
  nowIso: string,
  versionless: boolean,
): InferredOutcome | undefined {
  if (!offer || offer.outcome) return undefined;
  const base = { build: offer.build, deploymentId: offer.deploymentId, ...(offer.version ? { version: offer.version } : {}) };
  const reported = input.build !== undefined || input.version !== undefined;
  if (reported && (currentBuild === offer.build || (input.build === undefined && sameVersion(input.version, offer.version)))) {
    return { ...base, outcome: 'succeeded', reason: 'checked_in_on_offered_build' };
  }
  if (!offer.downloadedAt || nowIso <= offer.downloadedAt) return undefined;
  if (versionless && !reported) return { ...base, outcome: 'succeeded', reason: 'called_again_after_download' };
  if (!reported) return undefined;
  const onOld =
    input.build !== undefined && offer.fromBuild !== undefined
      ? input.build === offer.fromBuild
      : offer.fromVersion === undefined || sameVersion(input.version, offer.fromVersion);
  return onOld ? { ...base, outcome: 'failed', reason: 'returned_on_old_version' } : undefined;
}

/**
 * An open assignment wins over deployments until the device runs its build (then it is
 * `applied`), unless the device already failed that build.
 */
function assignedOffer(
  device: Device | undefined,
  currentBuild: number | undefined,
  currentVersion: string | undefined,
  secureVersion: number | undefined,
): Offer | undefined {
  const a = device?.assignment;
  if (!a || !OPEN_ASSIGNMENT_STATES.includes(a.state)) return undefined;
  if (currentBuild === a.build || sameVersion(currentVersion, a.firmware.version)) return undefined;
  if (device!.failedBuilds.includes(a.build)) return undefined;
  if (!passesAntiRollback(a.firmware.secureVersion, secureVersion)) return undefined;
  return { build: a.build, firmware: a.firmware, assignmentId: a.assignmentId };
}

/**
 * Build the device runs. A reported build wins; a reported version that changed makes the stored
 * build stale, so it is mapped through the product's deployments or dropped (and ordering then
 * falls back to versions).
 */
function resolveCurrentBuild(input: CheckInput, device: Device | undefined, deployments: readonly Deployment[]): number | undefined {
  if (input.build !== undefined) return input.build;
  if (input.version === undefined || input.version === device?.currentVersion) return device?.currentBuild;
  return deployments.find((d) => d.firmware.version === input.version)?.build;
}

/**
 * The highest `secure_version` the device's eFuse is known to hold: what it reports, what it held
 * before, and that of the build it runs when that build's record is at hand (eFuse values only rise).
 */
function knownSecureVersion(
  input: CheckInput,
  device: Device | undefined,
  deployments: readonly Deployment[],
  currentBuild: number | undefined,
): number | undefined {
  const ofBuild = currentBuild === undefined ? undefined : deployments.find((d) => d.build === currentBuild)?.firmware.secureVersion;
  const known = [input.secureVersion, device?.secureVersion, ofBuild].filter((v): v is number => v !== undefined);
  return known.length ? Math.max(...known) : undefined;
}

export function planCheck(args: PlanCheckArgs): CheckPlan {
  const { product, device, input, deployments, now } = args;
  const nowIso = now.toISOString();
  if (!product) return { decision: { status: 'unknown_product' }, write: { kind: 'none' } };

  let currentBuild = resolveCurrentBuild(input, device, deployments);
  let currentVersion = input.version ?? device?.currentVersion;
  // The channel an operator set wins: a device's own channel counts when it is new, or where the product lets devices choose.
  const channel = (device && !product.deviceSelectsChannel ? device.channel : (input.channel ?? device?.channel)) ?? DEFAULT_CHANNEL;
  const hw = {
    board: input.hw.board ?? device?.board,
    chip: input.hw.chip ?? device?.chip,
    revision: input.hw.revision ?? device?.hwRevision,
  };

  if (!device && !product.autoRegister) return { decision: { status: 'unknown_device' }, write: { kind: 'none' } };
  if (device && !device.active) return { decision: { status: 'inactive' }, write: { kind: 'none' } };

  const inferred = inferOutcome(device?.lastOffer, input, currentBuild, nowIso, args.versionless ?? false);
  let failedBuilds = device?.failedBuilds ?? [];
  if (inferred?.outcome === 'succeeded') {
    currentBuild = inferred.build;
    currentVersion = inferred.version ?? currentVersion;
  } else if (inferred) failedBuilds = [...failedBuilds, inferred.build];

  const secureVersion = knownSecureVersion(input, device, deployments, currentBuild);
  const installable = (fw: OfferedBuild) => !fw.imageOffset || Boolean(args.takesEsp32FotaSigned);
  const assignedBuild = assignedOffer(device, currentBuild, currentVersion, secureVersion);
  const assigned = assignedBuild && installable(assignedBuild.firmware) ? assignedBuild : undefined;
  // "Newer" is judged on what the device says: a reported build by build number, a reported
  // version by version (build numbers follow upload order: a hotfix 1.1.1 uploaded after 1.2.0
  // is not newer than 1.2.0). The stored build only stands in when the device says neither.
  const comparedBuild = inferred?.outcome === 'succeeded' ? currentBuild : (input.build ?? (input.version === undefined ? device?.currentBuild : undefined));
  const selection = assigned
    ? undefined
    : selectOffer({
        device: { deviceId: input.deviceId, channel, currentBuild: comparedBuild, currentVersion, hw, failedBuilds, groups: device?.groups, secureVersion },
        productChip: product.chip,
        deployments,
        order: args.order,
        accepts: (d) => installable(d.firmware) && (args.accepts?.(d) ?? true),
      });

  let decision: CheckDecision;
  if (assigned) decision = { status: 'update_available', offer: assigned, firstOffer: device?.assignment?.state === 'pending' };
  else if (selection!.kind === 'offer') {
    const d = selection!.deployment;
    decision = {
      status: 'update_available',
      offer: { build: d.build, firmware: d.firmware, deploymentId: d.deploymentId, ...(d.force || d.firmware.force ? { force: true } : {}) },
      firstOffer: device?.lastOffer?.deploymentId !== d.deploymentId || device?.lastOffer?.build !== d.build,
    };
  } else decision = { status: 'no_update', reason: selection!.reason };

  const lastOffer: OfferRecord | undefined =
    decision.status === 'update_available' && decision.firstOffer && decision.offer.deploymentId
      ? {
          build: decision.offer.build,
          deploymentId: decision.offer.deploymentId,
          at: nowIso,
          version: decision.offer.firmware.version,
          ...(currentVersion !== undefined ? { fromVersion: currentVersion } : {}),
          ...(currentBuild !== undefined ? { fromBuild: currentBuild } : {}),
        }
      : device?.lastOffer;

  if (!device) {
    const registered: Device = {
      productId: product.productId,
      deviceId: input.deviceId,
      ...(currentVersion !== undefined ? { currentVersion } : {}),
      ...(currentBuild !== undefined ? { currentBuild } : {}),
      ...(hw.board ? { board: hw.board } : {}),
      ...(hw.chip ? { chip: hw.chip } : {}),
      ...(hw.revision ? { hwRevision: hw.revision } : {}),
      ...(secureVersion !== undefined ? { secureVersion } : {}),
      channel,
      active: true,
      firstSeen: nowIso,
      lastSeen: nowIso,
      failedBuilds: [],
      ...(lastOffer ? { lastOffer } : {}),
      ...(input.info ? { info: input.info } : {}),
      // IoTaaP devices are addressed by id alone: index them (sparse GSI).
      ...(product.protocols?.iotaap ? { globalId: input.deviceId } : {}),
    };
    return { decision, write: { kind: 'register', device: registered } };
  }

  // Only what changed, plus lastSeen when stale: the steady state writes nothing.
  const patch: Record<string, unknown> = {};
  const setIfChanged = (key: keyof Device, value: unknown) => {
    if (value !== (device as unknown as Record<string, unknown>)[key]) patch[key] = value;
  };
  setIfChanged('currentVersion', currentVersion);
  setIfChanged('currentBuild', currentBuild);
  setIfChanged('board', hw.board);
  setIfChanged('chip', hw.chip);
  setIfChanged('hwRevision', hw.revision);
  setIfChanged('secureVersion', secureVersion);
  setIfChanged('channel', channel);
  if (lastOffer !== device.lastOffer) patch.lastOffer = lastOffer;
  if (input.info && JSON.stringify(input.info) !== JSON.stringify(device.info ?? null)) patch.info = input.info;
  const stale = now.getTime() - Date.parse(device.lastSeen) >= args.lastSeenWriteIntervalMs;
  const assignment = assignmentTransition(device, decision, currentBuild, currentVersion);
  const extra = { ...(assignment ? { assignment } : {}), ...(inferred ? { inferred } : {}) };
  if (Object.keys(patch).length === 0 && !stale) return { decision, write: { kind: 'none' }, ...extra };
  patch.lastSeen = nowIso;
  return { decision, write: { kind: 'update', patch: patch as Partial<Device> }, ...extra };
}
