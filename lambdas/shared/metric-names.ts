/** Metric names and dimension sets: pure data shared by the handlers (lambdas/shared/metrics.ts) and the CDK alarms and dashboard. */
/** The CloudWatch namespace of every business metric. */
export const METRIC_NAMESPACE = 'EspOta';

/** Metric names, shared with the CDK alarms and dashboard. */
export const METRIC = {
  /** Device update checks; dimension `Result` = the check outcome. */
  check: 'Check',
  /** Update offers made to devices (a deployment's build was offered). */
  offer: 'Offer',
  /** Device progress/outcome reports; dimension `Status`. */
  outcome: 'Outcome',
  /** Releases processed by the ingest pipeline; dimension `Result` = accepted | rejected, `Code` = rejection code. */
  ingest: 'Ingest',
  /** Deployments paused automatically (failure rate over the limit). */
  autoPause: 'AutoPause',
  /**
   * Infrastructure faults answered with a status a protocol documents instead of a 5xx (Cheeko's
   * 200 `{ "error" }`, activation's 202, IoTaaP's 404): API Gateway's 5xx metric never sees them.
   * Dimension `Route`.
   */
  maskedFault: 'MaskedFault',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/**
 * The dimension sets each metric is published under (the fleet-wide set first). The CDK alarms
 * and dashboard query the fleet-wide sets, so they are part of the contract: change them together.
 */
export const FLEET_DIMENSIONS: Readonly<Record<MetricName, readonly string[]>> = {
  Check: ['Result'],
  Offer: [],
  Outcome: ['Status'],
  Ingest: ['Result'],
  AutoPause: [],
  MaskedFault: [],
};
