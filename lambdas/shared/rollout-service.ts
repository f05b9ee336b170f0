/**
 * The rollout sweeper: visits the deployments that need it (schedules, in-progress timeouts),
 * counts overdue offers as timed out — each exactly once, racing fairly with late reports — lets
 * the failure policy pause what crossed its threshold, and advances scheduled canaries whose gate
 * passed. Runs every minute (EventBridge in the cloud, a timer locally). No scans: the watch list
 * and the in-flight index are Queries on one partition each.
 */
import { countsSinceResume, nextStep, policyBreach, timeoutCutoff } from '../core/rollout';
import { invalidateProductConfig } from './config-cache';
import type { Logger } from './logger';
import { countAutoPause } from './metrics';
import { OutcomeService } from './outcome-service';
import type { DeploymentStore } from './store/deployment-store';
import type { DeviceStore } from './store/device-store';

export interface SweepSummary {
  visited: number;
  timedOut: number;
  autoPaused: string[];
  promoted: { deploymentId: string; step: number; percentage: number }[];
}

export interface RolloutServiceDeps {
  readonly deployments: DeploymentStore;
  /** Offers settle on the device item (a timeout races fairly with reports and inferences). */
  readonly devices: DeviceStore;
  readonly logger: Logger;
}

export class RolloutService {
  private readonly outcomes: OutcomeService;
  constructor(private readonly deps: RolloutServiceDeps) {
    this.outcomes = new OutcomeService({ deployments: deps.deployments, devices: deps.devices });
  }

  async sweep(now: Date = new Date()): Promise<SweepSummary> {
    const { deployments, logger } = this.deps;
    const summary: SweepSummary = { visited: 0, timedOut: 0, autoPaused: [], promoted: [] };
    for (const w of await deployments.watched()) {
      let d = await deployments.get(w.productId, w.deploymentId, true);
      if (!d || d.state === 'completed' || d.state === 'cancelled') {
        await deployments.unwatch(w.productId, w.deploymentId);
        continue;
      }
      summary.visited++;
      const cutoff = timeoutCutoff(d, now);
      if (cutoff) {
        for (const o of await deployments.overdueInFlight(d.deploymentId, cutoff)) {
          if (!(await deployments.removeInFlight(o.deploymentId, o.offeredAt, o.deviceId))) continue;
          // The device item settles it: an outcome that got there first (report, inference) wins, and
          // an offer the device no longer holds (superseded by another) is not this deployment's to count.
          const settled = await this.outcomes.settle(d.productId, o.deviceId, { build: d.build, deploymentId: d.deploymentId }, 'timed_out', {
            inFlightRemoved: true,
            skipPolicy: true,
          });
          if (!settled) continue;
          summary.timedOut++;
          if (settled.deployment) d = settled.deployment;
          logger.info('offer timed out', { deploymentId: d.deploymentId, deviceId: o.deviceId, offeredAt: o.offeredAt });
        }
        const reason = d.state === 'active' ? policyBreach(d.policy, countsSinceResume(d)) : undefined;
        if (reason && (await deployments.autoPause(d.productId, d.deploymentId, reason, now.toISOString()))) {
          summary.autoPaused.push(d.deploymentId);
          invalidateProductConfig(d.productId);
          countAutoPause(d.productId, d.deploymentId);
          logger.warn('deployment auto-paused', { deploymentId: d.deploymentId, reason });
          continue;
        }
      }
      const step = nextStep(d, now);
      if (step.kind === 'promote') {
        const promoted = await deployments.advanceStep(d.productId, d.deploymentId, d.schedule!.currentStep, step.toStep, step.percentage, now.toISOString());
        if (promoted) {
          summary.promoted.push({ deploymentId: d.deploymentId, step: step.toStep, percentage: step.percentage });
          invalidateProductConfig(d.productId);
          logger.info('canary step promoted', { deploymentId: d.deploymentId, step: step.toStep, percentage: step.percentage });
        }
      }
    }
    return summary;
  }
}
