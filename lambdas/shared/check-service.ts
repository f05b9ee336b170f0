/**
 * Runs an update check for any device protocol: one cached config lookup, one device read, the
 * pure `planCheck`, then only the writes the plan asks for. Steady state = 1 GetItem, 0 writes.
 */
import { planCheck, type CheckDecision, type CheckInput } from '../core/check';
import type { Deployment, Product } from '../core/model';
import type { SignedOffer } from '../core/native-api';
import { nextCheckSeconds } from '../core/poll';
import type { ProductConfigCache } from './config-cache';
import type { DeploymentStore } from './store/deployment-store';
import type { DeviceStore } from './store/device-store';
import type { UrlSigner } from './url-signer';

/** Poll interval for devices of unknown products (they should back off, not hammer us). */
export const UNKNOWN_PRODUCT_POLL_S = 3600;

export interface CheckResult {
  readonly product?: Product;
  readonly decision: CheckDecision;
  readonly offer?: SignedOffer;
  readonly nextCheckS: number;
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
  constructor(private readonly deps: CheckServiceDeps) {}

  async check(productId: string, input: CheckInput): Promise<CheckResult> {
    const { config, devices } = this.deps;
    const now = this.deps.now?.() ?? new Date();
    const product = await config.product(productId);
    if (!product) return { decision: { status: 'unknown_product' }, nextCheckS: nextCheckSeconds(UNKNOWN_PRODUCT_POLL_S) };

    const [device, deployments] = await Promise.all([devices.get(productId, input.deviceId), config.allDeployments(productId)]);
    const plan = (deps: readonly Deployment[]) =>
      planCheck({ product, device, input, deployments: deps, now, lastSeenWriteIntervalMs: this.deps.lastSeenWriteIntervalMs });

    let current = plan(deployments);
    if (current.decision.status === 'update_available' && !(await this.claimOffer(productId, current.decision))) {
      // Our cached view was stale (paused/cancelled meanwhile): decide again on fresh state, once.
      config.invalidate(productId);
      current = plan(await config.allDeployments(productId));
      if (current.decision.status === 'update_available' && !(await this.claimOffer(productId, current.decision))) {
        current = plan([]);
      }
    }

    const { write, decision } = current;
    if (write.kind === 'register') await devices.register(write.device); // false = a concurrent first check registered it
    if (write.kind === 'update') await devices.update(productId, input.deviceId, write.patch);

    const nextCheckS = nextCheckSeconds(product.pollIntervalS);
    if (decision.status !== 'update_available') return { product, decision, nextCheckS };
    return { product, decision, offer: await this.sign(decision.deployment), nextCheckS };
  }

  /** Counts the offer and proves the deployment is still active at this instant. */
  private claimOffer(productId: string, decision: Extract<CheckDecision, { status: 'update_available' }>): Promise<boolean> {
    return this.deps.deployments.recordOffer(productId, decision.deployment.deploymentId, decision.firstOffer ? 1 : 0);
  }

  private async sign(deployment: Deployment): Promise<SignedOffer> {
    const app = deployment.firmware.files.find((f) => f.role === 'app');
    if (!app) throw new Error(`Deployment ${deployment.deploymentId} has no app image`);
    const ui = deployment.firmware.files.find((f) => f.role === 'ui');
    const [appUrl, uiUrl] = await Promise.all([this.deps.signer.sign(app.key), ui ? this.deps.signer.sign(ui.key) : undefined]);
    return { app, appUrl, ...(ui && uiUrl ? { ui, uiUrl } : {}) };
  }
}
