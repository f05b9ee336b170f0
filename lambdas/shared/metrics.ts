/**
 * Business metrics, as CloudWatch embedded metric format (EMF) lines on stdout, via Powertools
 * Metrics. Handlers call the `count*` helpers while they work and `flushMetrics()` once at the end
 * of each invocation; CloudWatch Logs turns the lines into metrics in the `EspOta` namespace.
 *
 * Each metric is published under a few fixed dimension sets: a fleet-wide one (alarms and the
 * dashboard use it, see lib/constructs/observability.ts) and a per-product / per-deployment one
 * (drill-down). Counts are summed in memory per metric and dimension values, so an invocation
 * writes one line per distinct metric, whatever the number of calls.
 *
 * Metrics are a no-op (nothing buffered, nothing written) unless running in Lambda
 * (`AWS_LAMBDA_FUNCTION_NAME` set) and not silenced (`OTA_SILENT=1`): the local platform must
 * not print EMF JSON. Both are read on every call. `POWERTOOLS_METRICS_DISABLED` is honoured as
 * Powertools reads it: once, when the first flush creates the Powertools instance.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createLogger } from './logger';
import { METRIC, METRIC_NAMESPACE, type MetricName } from './metric-names';

export { FLEET_DIMENSIONS, METRIC, METRIC_NAMESPACE, type MetricName } from './metric-names';

type DimensionSet = Record<string, string>;
interface Pending {
  readonly name: MetricName;
  readonly sets: readonly DimensionSet[];
  count: number;
}

/** Flushed early past this many distinct series, in case a caller never flushes. */
const MAX_PENDING = 100;
const pending = new Map<string, Pending>();
let metrics: Metrics | undefined;

/** True when metrics are written: inside Lambda and not silenced. */
export const metricsEnabled = (): boolean => process.env.OTA_SILENT !== '1' && !!process.env.AWS_LAMBDA_FUNCTION_NAME;

/** Dimension values CloudWatch accepts (1–1024 characters); a set with a missing value is dropped. */
const validSet = (set: DimensionSet): boolean => Object.values(set).every((v) => typeof v === 'string' && v.length > 0 && v.length <= 1024);

function powertools(): Metrics {
  if (!metrics) {
    const log = createLogger('metrics');
    metrics = new Metrics({
      namespace: METRIC_NAMESPACE,
      // Powertools diagnostics go through our structured logger. Our dimension sets overlap by
      // design (the fleet-wide set is a subset of the per-product one), which Powertools warns about.
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (message: unknown) => {
          if (!/defined as both a dimension set and dimension set/.test(String(message))) log.warn(String(message));
        },
        error: (message: unknown) => log.error(String(message)),
      },
    });
    // No `service` dimension: our sets are exactly the ones declared here (the alarms depend on it).
    metrics.clearDefaultDimensions();
  }
  return metrics;
}

function count(name: MetricName, sets: DimensionSet[]): void {
  if (!metricsEnabled()) return;
  const valid = sets.filter(validSet);
  if (valid.length === 0) return;
  const key = JSON.stringify([name, valid]);
  const entry = pending.get(key);
  if (entry) entry.count += 1;
  else pending.set(key, { name, sets: valid, count: 1 });
  if (pending.size > MAX_PENDING) flushMetrics();
}

/**
 * Writes every buffered count (one EMF line per metric and dimension values) and empties the
 * buffer. Call once at the end of each invocation (also on errors); a no-op when nothing is buffered.
 */
export function flushMetrics(): void {
  if (pending.size === 0) return;
  const entries = [...pending.values()];
  pending.clear();
  if (!metricsEnabled()) return;
  const m = powertools();
  for (const { name, sets, count: value } of entries) {
    for (const set of sets) m.addDimensions(set);
    m.addMetric(name, MetricUnit.Count, value);
    m.publishStoredMetrics();
  }
}

/** A device update check, by outcome (e.g. `update`, `no_update`, `unknown_device`). */
export function countCheck(productId: string, outcome: string): void {
  count(METRIC.check, [{ Result: outcome }, { ProductId: productId, Result: outcome }]);
}

/** A build offered to a device; `deploymentId` when the offer came from a deployment (not a pinned assignment). */
export function countOffer(productId: string, deploymentId?: string): void {
  count(METRIC.offer, [{}, { ProductId: productId }, ...(deploymentId ? [{ ProductId: productId, DeploymentId: deploymentId }] : [])]);
}

/** A device status report (`downloading`, `success`, `failed`, …), per deployment when there is one. */
export function countOutcome(productId: string, deploymentId: string | undefined, status: string): void {
  count(METRIC.outcome, [
    { Status: status },
    { ProductId: productId, Status: status },
    ...(deploymentId ? [{ ProductId: productId, DeploymentId: deploymentId, Status: status }] : []),
  ]);
}

/** A release processed by the ingest pipeline; `code` is the rejection (or duplicate) code, if any. */
export function countIngest(productId: string, accepted: boolean, code?: string): void {
  const Result = accepted ? 'accepted' : 'rejected';
  count(METRIC.ingest, [{ Result }, { ProductId: productId, Result }, ...(code ? [{ Result, Code: code }] : [])]);
}

/** A deployment paused automatically. The fleet-wide series (no dimensions) is alarmed on. */
export function countAutoPause(productId: string, deploymentId: string): void {
  count(METRIC.autoPause, [{}, { ProductId: productId, DeploymentId: deploymentId }]);
}

/** An infrastructure fault a protocol answers with a documented non-5xx status (see METRIC.maskedFault). The fleet-wide series is alarmed on. */
export function countMaskedFault(route: string): void {
  count(METRIC.maskedFault, [{}, { Route: route }]);
}
