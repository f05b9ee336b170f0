/**
 * Runs an update check for any device protocol: one cached config lookup, one device read, the
 * pure `planCheck`, then only the writes the plan asks for. Steady state = 1 GetItem, 0 writes.
 */
import { planCheck, type CheckDecision, type CheckInput, type InferredOutcome } from '../core/check';
import type { Deployment, Device, OfferedBuild, Product } from '../core/model';
import { nextCheckSeconds } from '../core/poll';
import { authorizeDevice } from '../core/security';
import type { SignedOffer } from '../protocols/native/wire';
import type { ProductConfigCache } from './config-cache';
import { countCheck, countOffer } from './metrics';
import { OutcomeService } from './outcome-service';
import type { DeploymentStore } from './store/deployment-store';
import type { DeviceStore, SlotClaim } from './store/device-store';
import type { UrlSigner } from './url-signer';

/** Poll interval for devices of unknown products (they should back off, not hammer us). */
export const UNKNOWN_PRODUCT_POLL_S = 3600;

export interface CheckOptions {
  readonly credential?: string;
  /** The device item when the adapter already read it (IoTaaP finds devices by id alone): saves the GetItem. */
  readonly device?: Device;
  /** The adapter authenticated the device by its protocol's own means (IoTaaP's in-path token). */
  readonly authenticated?: boolean;
  /** false: leave the device's assignment state alone (an unauthenticated lookup). @default true */
  readonly moveAssignment?: boolean;
  readonly order?: 'latest' | 'next';
  /** The protocol's own limit on installable builds (see selectOffer). */
  readonly accepts?: (d: Deployment) => boolean;
  /** The protocol's clients strip an esp32FOTA signature prefix (see planCheck). */
  readonly takesEsp32FotaSigned?: boolean;
  /** The protocol never says what the device runs (IoTaaP); see inferOutcome. */
  readonly versionless?: boolean;
  /**
   * A lookup that cannot lead to a download (IoTaaP `latest`): it decides, but offers nothing —
   * no offer is counted, no in-flight entry opened, nothing registered or written but the outcome
   * it proves of an offer already open.
   */
  readonly lookup?: boolean;
}

export interface CheckResult {
  /** The credential failed (the decision then says unknown_device). */
  readonly unauthorized?: boolean;
  readonly product?: Product;
  /** The device as read before this check (undefined: new or unknown). */
  readonly device?: Device;
  /** The adapter authenticated the device by its protocol's own means (IoTaaP's in-path token). */
  readonly authenticated?: boolean;
  readonly decision: CheckDecision;
  readonly offer?: SignedOffer;
  readonly nextCheckS: number;
  /** The outcome this check-in settled of the device's open offer, if any. */
  readonly settled?: InferredOutcome;
}

export interface CheckServiceDeps {
  readonly config: ProductConfigCache;
  readonly deployments: DeploymentStore;
  readonly devices: DeviceStore;
  readonly signer: UrlSigner;
  readonly lastSeenWriteIntervalMs: number;
  readonly now?: () => Date;
}

export class CheckService {
  private readonly outcomes: OutcomeService;
  constructor(private readonly deps: CheckServiceDeps) {
    this.outcomes = new OutcomeService(deps);
  }

  /**
   * `credential`: the secret the device presented (its product's security mode decides whether it is
   * needed); a failing one is answered as an unknown device and nothing is written.
   */
  async check(productId: string, input: CheckInput, opts: CheckOptions = {}): Promise<CheckResult> {
    const { config, devices } = this.deps;
    const now = this.deps.now?.() ?? new Date();
    const product = await config.product(productId);
    if (!product) return { decision: { status: 'unknown_product' }, nextCheckS: nextCheckSeconds(UNKNOWN_PRODUCT_POLL_S) };

    const [device, deployments] = await Promise.all([opts.device ?? devices.get(productId, input.deviceId), config.allDeployments(productId)]);
    if (!opts.authenticated && !authorizeDevice(product, device, opts.credential)) {
      return { product, decision: { status: 'unknown_device' }, nextCheckS: nextCheckSeconds(product.pollIntervalS), unauthorized: true };
    }
    // A new device of a product with a quota takes its slot first: beyond the quota it is refused before anything is offered or counted.
    // The slot is claimed per device: concurrent first checks of one device share it (`held`).
    const quota = !device && product.autoRegister && !opts.lookup ? product.deviceQuota : undefined;
    const slot = quota === undefined ? undefined : await devices.claimDeviceSlot(productId, input.deviceId, quota);
    if (slot === 'full') return { product, decision: { status: 'over_limit' }, nextCheckS: nextCheckSeconds(product.pollIntervalS) };
    try {
      return await this.decide(product, device, deployments, input, opts, now, slot);
    } catch (e) {
      // A claimed slot never leaks: whatever failed before the device was registered gives it back.
      if (slot === 'claimed' && !(await devices.get(productId, input.deviceId, true).catch(() => undefined))) {
        await devices.releaseDeviceSlot(productId, input.deviceId).catch(() => undefined);
      }
      throw e;
    }
  }

  private async decide(
    product: Product,
    device: Device | undefined,
    deployments: readonly Deployment[],
    input: CheckInput,
    opts: CheckOptions,
    now: Date,
    slot: SlotClaim | undefined,
  ): Promise<CheckResult> {
    const { config, devices } = this.deps;
    const productId = product.productId;
    const plan = (deps: readonly Deployment[]) =>
      planCheck({
        product,
        device,
        input,
        deployments: deps,
        now,
        lastSeenWriteIntervalMs: this.deps.lastSeenWriteIntervalMs,
        order: opts.order,
        accepts: opts.accepts,
        takesEsp32FotaSigned: opts.takesEsp32FotaSigned,
        versionless: opts.versionless,
      });

    let current = plan(deployments);
    // What this check-in proves of the open offer settles first: the device write below may replace the offer.
    const inferred = current.inferred;
    const settled = inferred
      ? await this.outcomes.settle(productId, input.deviceId, { build: inferred.build, deploymentId: inferred.deploymentId }, inferred.outcome, {
          inferred: { reason: inferred.reason, ...(inferred.version ? { version: inferred.version } : {}) },
        })
      : undefined;
    if (settled?.deployment && settled.deployment.state !== 'active') config.invalidate(productId);
    const extra = settled && inferred ? { settled: inferred } : {};
    if (opts.lookup) {
      const nextCheckS = nextCheckSeconds(product.pollIntervalS);
      if (current.decision.status !== 'update_available') return { product, device, decision: current.decision, nextCheckS, ...extra };
      return { product, device, decision: current.decision, offer: await signOffer(this.deps.signer, current.decision.offer.firmware), nextCheckS, ...extra };
    }
    if (current.decision.status === 'update_available' && !(await this.claimOffer(productId, current.decision))) {
      // Our cached view was stale (paused/cancelled meanwhile): decide again on fresh state, once.
      config.invalidate(productId);
      current = plan(await config.allDeployments(productId));
      if (current.decision.status === 'update_available' && !(await this.claimOffer(productId, current.decision))) {
        current = plan([]);
      }
    }

    const { write } = current;
    const decision = current.decision;
    // `held`: a concurrent check of this same device holds the slot and registers it. Otherwise
    // false = it exists already (registered meanwhile without our slot): give the slot back.
    if (write.kind === 'register' && slot !== 'held' && !(await devices.register(write.device)) && slot === 'claimed') {
      await devices.releaseDeviceSlot(productId, input.deviceId);
    }
    if (write.kind === 'update') await devices.update(productId, input.deviceId, write.patch);
    if (current.assignment && opts.moveAssignment !== false) {
      const { assignmentId, to } = current.assignment;
      await devices.transitionAssignment(
        productId,
        input.deviceId,
        assignmentId,
        to === 'applied' ? ['pending', 'delivered'] : ['pending'],
        to,
        now.toISOString(),
      );
    }

    if (decision.status === 'update_available' && decision.firstOffer && decision.offer.deploymentId) {
      await this.trackInFlight(productId, input.deviceId, decision.offer.deploymentId, now);
    }
    const nextCheckS = nextCheckSeconds(product.pollIntervalS);
    countCheck(productId, decision.status);
    if (decision.status === 'update_available' && decision.firstOffer) countOffer(productId, decision.offer.deploymentId);
    if (decision.status !== 'update_available') return { product, device, decision, nextCheckS, ...extra };
    return { product, device, decision, offer: await signOffer(this.deps.signer, decision.offer.firmware, input.deviceId), nextCheckS, ...extra };
  }

  /** Offers of deployments with an in-progress timeout are indexed until they finish (see RolloutService). */
  private async trackInFlight(productId: string, deviceId: string, deploymentId: string, now: Date) {
    // The deployments are in the container's cache (the plan just read them): no I/O.
    const d = (await this.deps.config.allDeployments(productId)).find((x) => x.deploymentId === deploymentId);
    if (d?.policy?.inProgressTimeoutMinutes === undefined) return;
    await this.deps.deployments.addInFlight({ productId, deploymentId, deviceId, offeredAt: now.toISOString() });
  }

  /** Counts a deployment offer and proves the deployment is still active at this instant (assignments need neither). */
  private claimOffer(productId: string, decision: Extract<CheckDecision, { status: 'update_available' }>): Promise<boolean> {
    const { deploymentId } = decision.offer;
    if (!deploymentId) return Promise.resolve(true);
    return this.deps.deployments.recordOffer(productId, deploymentId, decision.firstOffer ? 1 : 0);
  }
}

/** Signed CDN URLs for a build's app image and, when present, its ui image and ufw package. */
export async function signOffer(signer: UrlSigner, firmware: OfferedBuild, deviceId?: string): Promise<SignedOffer> {
  const app = firmware.files.find((f) => f.role === 'app');
  if (!app) throw new Error(`Build ${firmware.build} has no app image`);
  const ui = firmware.files.find((f) => f.role === 'ui');
  const ufw = firmware.files.find((f) => f.role === 'ufw');
  // The app URL names its device, so the CDN's record of the download is evidence about that device's offer.
  const [appUrl, uiUrl, ufwUrl] = await Promise.all([signer.sign(app.key, undefined, deviceId), ui && signer.sign(ui.key), ufw && signer.sign(ufw.key)]);
  return { app, appUrl, ...(ui && uiUrl ? { ui, uiUrl } : {}), ...(ufw && ufwUrl ? { ufw, ufwUrl } : {}) };
}
