/**
 * Records a device's progress/outcome report for any device protocol. The device item is the
 * de-duplication point (conditional update) and keeps every report in its history; a report moves
 * a deployment's counters only when it settles (or advances) that device's open offer of that
 * build, through the OutcomeService — so a device never offered the build, and a report that
 * contradicts an earlier outcome, change no counter.
 */
import { TERMINAL_REPORT_STATUSES as TERMINAL, type DeviceReportStatus, type OfferOutcome } from '../core/model';
import { authorizeDevice } from '../core/security';
import type { ProductConfigCache } from './config-cache';
import { OutcomeService } from './outcome-service';
import type { CatalogStore } from './store/catalog-store';
import type { DeploymentStore } from './store/deployment-store';
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

const OUTCOME_FOR: Partial<Record<DeviceReportStatus, OfferOutcome>> = { success: 'succeeded', failed: 'failed', rolled_back: 'rolled_back' };

export interface StatusServiceDeps {
  readonly config: ProductConfigCache;
  readonly catalog: CatalogStore;
  readonly deployments: DeploymentStore;
  readonly devices: DeviceStore;
  readonly now?: () => Date;
}

export class StatusService {
  private readonly outcomes: OutcomeService;
  constructor(private readonly deps: StatusServiceDeps) {
    this.outcomes = new OutcomeService(deps);
  }

  /**
   * `deploymentId` in the answer: the deployment whose offer of this build the device holds (the
   * one a report counts on), whether or not this report was the one that settled it.
   */
  async report(productId: string, args: ReportArgs): Promise<{ result: ReportResult; deploymentId?: string; counted?: boolean }> {
    const { config, catalog, devices } = this.deps;
    const product = await config.product(productId);
    if (!product) return { result: 'unknown_product' };
    // A failing credential is an unknown device, and nothing is written. Only device_token mode needs the device item.
    const holder = product.securityMode === 'device_token' ? await devices.get(productId, args.deviceId) : undefined;
    if (!authorizeDevice(product, holder, args.credential)) return { result: 'unknown_device' };

    const known = await config.allDeployments(productId);
    const version = known.find((d) => d.build === args.build)?.firmware.version ?? (await catalog.getFirmware(productId, args.build))?.version;
    if (version === undefined) return { result: 'unknown_build' };

    const at = (this.deps.now?.() ?? new Date()).toISOString();
    const outcome = await devices.recordReport(productId, args.deviceId, {
      build: args.build,
      status: args.status,
      at,
      version,
      ...(args.deploymentId ? { deploymentId: args.deploymentId } : {}),
      ...(args.message ? { message: args.message } : {}),
    });
    if (outcome.kind === 'unknown_device') return { result: 'unknown_device' };
    const offer = outcome.device.lastOffer;
    const offeredBy = offer?.build === args.build ? offer.deploymentId : undefined;
    if (outcome.kind === 'duplicate') return { result: 'duplicate', ...(offeredBy ? { deploymentId: offeredBy } : {}), counted: false };

    // An operator assignment of this build follows the device's outcome.
    const a = outcome.device.assignment;
    const to = args.status === 'success' ? 'applied' : args.status === 'failed' || args.status === 'rolled_back' ? 'failed' : undefined;
    if (a && to && a.build === args.build) {
      await devices.transitionAssignment(productId, args.deviceId, a.assignmentId, ['pending', 'delivered'], to, at);
    }

    let counted = false;
    if (offeredBy && TERMINAL.has(args.status)) {
      counted = (await this.outcomes.settle(productId, args.deviceId, { build: args.build, deploymentId: offeredBy }, OUTCOME_FOR[args.status]!)) !== undefined;
    } else if (offeredBy) {
      counted =
        (await this.outcomes.step(productId, args.deviceId, args.build, args.status === 'downloading' ? 'downloadingAt' : 'installingAt')) !== undefined;
    }
    return { result: 'recorded', ...(offeredBy ? { deploymentId: offeredBy } : {}), counted };
  }
}
