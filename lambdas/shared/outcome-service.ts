/**
 * The one place an offer's outcome is settled and counted, for every protocol and every kind of
 * evidence: a device's report, an inference at check-in, a completed download, the timeout sweeper.
 * The device item settles the offer (a conditional write on its open offer), then the deployment's
 * counters move — so a fact counts only for a device that has an open offer of that build from that
 * deployment, and each offer is counted at most once. The failure policy is judged on every
 * counted failure.
 */
import type { Deployment, InferenceReason, OfferOutcome, OfferRecord } from '../core/model';
import { countsSinceResume, policyBreach } from '../core/rollout';
import { invalidateProductConfig, type ProductConfigCache } from './config-cache';
import { countAutoPause, countOutcome } from './metrics';
import type { CounterName, DeploymentStore } from './store/deployment-store';
import type { DeviceStore } from './store/device-store';

const COUNTER_FOR: Record<OfferOutcome, CounterName> = {
  succeeded: 'succeeded',
  failed: 'failed',
  rolled_back: 'rolledBack',
  timed_out: 'timedOut',
};

/** The metric's status names (as devices report them). */
const METRIC_STATUS: Record<OfferOutcome, string> = { succeeded: 'success', failed: 'failed', rolled_back: 'rolled_back', timed_out: 'timed_out' };

const STEP_COUNTER = { downloadingAt: 'downloading', installingAt: 'installing', downloadedAt: 'downloaded' } as const;
export type OfferStep = keyof typeof STEP_COUNTER;

export interface Settled {
  readonly offer: OfferRecord;
  readonly deploymentId: string;
  /** The deployment after its counter moved (undefined if it was deleted meanwhile). */
  readonly deployment?: Deployment;
}

export interface SettleOptions {
  /** Inferred, not reported: why. */
  readonly inferred?: { readonly reason: InferenceReason; readonly version?: string };
  /** The caller already removed the offer from the in-flight index (the sweeper). */
  readonly inFlightRemoved?: boolean;
  /** The caller judges the failure policy itself (the sweeper, once per visit). */
  readonly skipPolicy?: boolean;
}

export interface OutcomeServiceDeps {
  readonly deployments: DeploymentStore;
  readonly devices: DeviceStore;
  /** The product's deployments (cached): tells whether an offer is in the in-flight index. */
  readonly config?: ProductConfigCache;
  readonly now?: () => Date;
}

export class OutcomeService {
  constructor(private readonly deps: OutcomeServiceDeps) {}

  /** Settles the device's open offer of `match.build` as `outcome` and counts it; undefined when there was no open offer to settle. */
  async settle(
    productId: string,
    deviceId: string,
    match: { readonly build: number; readonly deploymentId?: string },
    outcome: OfferOutcome,
    opts: SettleOptions = {},
  ): Promise<Settled | undefined> {
    const { deployments, devices } = this.deps;
    const at = this.now();
    const offer = await devices.settleOffer(productId, deviceId, match, outcome, at, opts.inferred);
    if (!offer) return undefined;
    // A settled offer can no longer time out. (Should the sweeper get there between our two writes, it finds the offer settled and counts nothing.)
    if (!opts.inFlightRemoved && (await this.tracksInFlight(productId, offer.deploymentId))) {
      await deployments.removeInFlight(offer.deploymentId, offer.at, deviceId);
    }
    const counters: CounterName[] = [COUNTER_FOR[outcome]];
    if (opts.inferred) counters.push(outcome === 'succeeded' ? 'inferredSucceeded' : 'inferredFailed');
    const deployment = await deployments.increment(productId, offer.deploymentId, counters);
    countOutcome(productId, offer.deploymentId, METRIC_STATUS[outcome]);
    if (deployment && outcome !== 'succeeded' && !opts.skipPolicy) await this.enforcePolicy(deployment);
    return { offer, deploymentId: offer.deploymentId, ...(deployment ? { deployment } : {}) };
  }

  /** Marks a step of the device's open offer (progress report, completed download) and counts it once per offer. */
  async step(productId: string, deviceId: string, build: number, step: OfferStep): Promise<OfferRecord | undefined> {
    const offer = await this.deps.devices.markOfferStep(productId, deviceId, build, step, this.now());
    if (!offer) return undefined;
    await this.deps.deployments.increment(productId, offer.deploymentId, STEP_COUNTER[step]);
    countOutcome(productId, offer.deploymentId, STEP_COUNTER[step]);
    return offer;
  }

  /**
   * The fact that crosses the policy's threshold pauses the deployment. The counter moved
   * atomically and the pause is conditional on `active`, so concurrent facts pause it exactly once.
   */
  async enforcePolicy(d: Deployment): Promise<boolean> {
    const reason = policyBreach(d.policy, countsSinceResume(d));
    if (!reason || d.state !== 'active') return false;
    if (!(await this.deps.deployments.autoPause(d.productId, d.deploymentId, reason, this.now()))) return false;
    invalidateProductConfig(d.productId);
    countAutoPause(d.productId, d.deploymentId);
    return true;
  }

  private async tracksInFlight(productId: string, deploymentId: string): Promise<boolean> {
    const config = this.deps.config;
    // Without the product's deployments at hand, remove anyway: a delete of nothing is harmless.
    if (!config) return true;
    const d = (await config.allDeployments(productId)).find((x) => x.deploymentId === deploymentId);
    return d === undefined || d.policy?.inProgressTimeoutMinutes !== undefined;
  }

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }
}
