/**
 * Records a device's progress/outcome report for any device protocol: the device item is the
 * de-duplication point (conditional update), and only a first report bumps the deployment's
 * counter, so retried and duplicated reports are harmless.
 */
import { TERMINAL_REPORT_STATUSES as TERMINAL, type Deployment, type Device, type DeviceReportStatus } from '../core/model';
import { countsSinceResume, policyBreach } from '../core/rollout';
import { authorizeDevice } from '../core/security';
import { invalidateProductConfig, type ProductConfigCache } from './config-cache';
import { countAutoPause, countOutcome } from './metrics';
import type { CatalogStore } from './store/catalog-store';
import type { CounterName, DeploymentStore } from './store/deployment-store';
import type { DeviceStore } from './store/device-store';

export type ReportResult = 'recorded' | 'duplicate' | 'unknown_product' | 'unknown_device' | 'unknown_build';

export interface ReportArgs {
  readonly deviceId: string;
  readonly build: number;
  readonly status: DeviceReportStatus;
  readonly deploymentId?: string;
  readonly message?: string;
  /** The secret the device presented (see the product's security mode). */
  readonly credential?: string;
}

const COUNTER_FOR: Record<DeviceReportStatus, CounterName> = {
  downloading: 'downloading',
  installing: 'installing',
  success: 'succeeded',
  failed: 'failed',
  rolled_back: 'rolledBack',
};

export interface StatusServiceDeps {
  readonly config: ProductConfigCache;
  readonly catalog: CatalogStore;
  readonly deployments: DeploymentStore;
  readonly devices: DeviceStore;
  readonly now?: () => Date;
}

export class StatusService {
  constructor(private readonly deps: StatusServiceDeps) {}

  async report(productId: string, args: ReportArgs): Promise<{ result: ReportResult; deploymentId?: string }> {
    const { config, catalog, deployments, devices } = this.deps;
    const product = await config.product(productId);
    if (!product) return { result: 'unknown_product' };
    // A failing credential is an unknown device, and nothing is written. Only device_token mode needs the device item.
    const holder = product.securityMode === 'device_token' ? await devices.get(productId, args.deviceId) : undefined;
    if (!authorizeDevice(product, holder, args.credential)) return { result: 'unknown_device' };

    const known = await config.allDeployments(productId);
    const version =
      known.find((d) => d.build === args.build)?.firmware.version ?? (await catalog.getFirmware(productId, args.build))?.version;
    if (version === undefined) return { result: 'unknown_build' };

    const outcome = await devices.recordReport(productId, args.deviceId, {
      build: args.build,
      status: args.status,
      at: (this.deps.now?.() ?? new Date()).toISOString(),
      version,
      ...(args.deploymentId ? { deploymentId: args.deploymentId } : {}),
      ...(args.message ? { message: args.message } : {}),
    });
    if (outcome.kind === 'unknown_device') return { result: 'unknown_device' };

    // Attribution: what the device says, else the offer we recorded for it, else the only active deployment of that build.
    const lastOffer = outcome.device.lastOffer;
    const deploymentId =
      (args.deploymentId && known.some((d) => d.deploymentId === args.deploymentId && d.build === args.build) ? args.deploymentId : undefined) ??
      (lastOffer?.build === args.build ? lastOffer.deploymentId : undefined) ??
      known.find((d) => d.build === args.build && d.state === 'active')?.deploymentId;
    if (outcome.kind === 'duplicate') return { result: 'duplicate', ...(deploymentId ? { deploymentId } : {}) };
    // An offer that already timed out was counted (timed_out); its late outcome is recorded on the device, not counted twice.
    const tracked = known.find((d) => d.deploymentId === deploymentId)?.policy?.inProgressTimeoutMinutes !== undefined;
    const countable = !(deploymentId && tracked && TERMINAL.has(args.status)) || (await this.finish(deploymentId, args, lastOffer));
    // An operator assignment of this build follows the device's outcome.
    const a = outcome.device.assignment;
    const to = args.status === 'success' ? 'applied' : args.status === 'failed' || args.status === 'rolled_back' ? 'failed' : undefined;
    if (a && to && a.build === args.build) {
      await devices.transitionAssignment(productId, args.deviceId, a.assignmentId, ['pending', 'delivered'], to, (this.deps.now?.() ?? new Date()).toISOString());
    }
    countOutcome(productId, deploymentId, args.status);
    if (deploymentId && countable) {
      const updated = await deployments.increment(productId, deploymentId, COUNTER_FOR[args.status]);
      if (updated && (args.status === 'failed' || args.status === 'rolled_back')) await this.enforcePolicy(updated);
    }
    return { result: 'recorded', ...(deploymentId ? { deploymentId } : {}) };
  }

  /** A finished offer leaves the in-flight index (so it can no longer time out). False when the sweep timed it out first. */
  private async finish(deploymentId: string, args: ReportArgs, lastOffer: Device['lastOffer']): Promise<boolean> {
    if (!lastOffer || lastOffer.deploymentId !== deploymentId || lastOffer.build !== args.build) return true;
    return this.deps.deployments.removeInFlight(deploymentId, lastOffer.at, args.deviceId);
  }

  /**
   * The report that crosses the policy's threshold pauses the deployment. The counter moved
   * atomically and the pause is conditional on `active`, so concurrent reports pause it exactly once.
   */
  private async enforcePolicy(d: Deployment): Promise<void> {
    const reason = policyBreach(d.policy, countsSinceResume(d));
    if (!reason || d.state !== 'active') return;
    if (await this.deps.deployments.autoPause(d.productId, d.deploymentId, reason, (this.deps.now?.() ?? new Date()).toISOString())) {
      invalidateProductConfig(d.productId);
      countAutoPause(d.productId, d.deploymentId);
    }
  }
}
