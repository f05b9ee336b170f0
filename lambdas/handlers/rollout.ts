/**
 * rollout — the scheduled sweeper (EventBridge, every minute): timeouts, auto-pauses, canary
 * steps. The event's `time` is "now", so a sweep is reproducible (and testable with any clock).
 */
import { createLogger } from '../shared/logger';
import { flushMetrics } from '../shared/metrics';
import { RolloutService, type SweepSummary } from '../shared/rollout-service';
import { deploymentStore, deviceStore } from '../shared/wiring';

const logger = createLogger('rollout');
const rollouts = new RolloutService({ deployments: deploymentStore(), devices: deviceStore(), logger });

export const handler = async (event: { time?: string } = {}): Promise<SweepSummary> => {
  const now = event.time ? new Date(event.time) : new Date();
  const summary = await rollouts.sweep(Number.isNaN(now.getTime()) ? new Date() : now).finally(flushMetrics);
  if (summary.timedOut || summary.autoPaused.length || summary.promoted.length) logger.info('sweep', { ...summary });
  return summary;
};
