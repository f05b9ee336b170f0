/**
 * Rollout safety, pure: when a deployment must stop itself, when a scheduled canary may take
 * its next step, and what an in-flight offer is. The stores make each decision take effect with
 * one conditional write, so concurrent reports and sweeps cannot miss or double it.
 */
import type { Deployment, DeploymentCounts, FailurePolicy } from './model';

/** Failures that count toward a policy: failed, rolled back, timed out. */
export const failuresOf = (c: DeploymentCounts): number => c.failed + c.rolledBack + c.timedOut;
/** Finished offers: successes and failures. */
export const outcomesOf = (c: DeploymentCounts): number => c.succeeded + failuresOf(c);
/** Offers still in flight (neither succeeded nor failed nor timed out). */
export const inFlightOf = (c: DeploymentCounts): number => Math.max(0, c.offered - outcomesOf(c));

/** Counts since the last resume (an operator who resumes has accepted what came before). */
export function countsSinceResume(d: Pick<Deployment, 'counts' | 'policyBaseline'>): DeploymentCounts {
  const b = d.policyBaseline;
  if (!b) return d.counts;
  return {
    ...d.counts,
    succeeded: d.counts.succeeded - b.succeeded,
    failed: d.counts.failed - b.failed,
    rolledBack: d.counts.rolledBack - b.rolledBack,
    timedOut: d.counts.timedOut - b.timedOut,
  };
}

/** Why the policy stops this deployment now (judged on the counts since the last resume), or undefined. */
export function policyBreach(policy: FailurePolicy | undefined, counts: DeploymentCounts): string | undefined {
  if (!policy) return undefined;
  const c = counts;
  const failures = failuresOf(c);
  if (policy.maxFailures !== undefined && failures >= policy.maxFailures) {
    return `auto: ${failures} failures reached max_failures ${policy.maxFailures}`;
  }
  if (policy.maxFailureRate !== undefined) {
    const outcomes = outcomesOf(c);
    const minSample = policy.minSample ?? 1;
    if (outcomes >= minSample && outcomes > 0 && failures / outcomes >= policy.maxFailureRate) {
      return `auto: failure rate ${(failures / outcomes).toFixed(3)} reached max_failure_rate ${policy.maxFailureRate} over ${outcomes} outcomes`;
    }
  }
  return undefined;
}

export type StepDecision =
  | { readonly kind: 'none'; readonly reason: 'no_schedule' | 'last_step' | 'not_active' | 'soaking' | 'gate_failed' | 'no_outcomes' }
  | { readonly kind: 'promote'; readonly toStep: number; readonly percentage: number };

/**
 * A scheduled canary advances when its current step has soaked for `soak_minutes` and its
 * success rate (succeeded / outcomes, over the deployment so far) meets `min_success_rate`.
 * No outcomes yet → the gate has not passed (nothing proves the build works).
 */
export function nextStep(d: Deployment, now: Date): StepDecision {
  const s = d.schedule;
  if (!s) return { kind: 'none', reason: 'no_schedule' };
  if (d.state !== 'active') return { kind: 'none', reason: 'not_active' };
  if (s.currentStep >= s.steps.length - 1) return { kind: 'none', reason: 'last_step' };
  const step = s.steps[s.currentStep]!;
  if (now.getTime() - Date.parse(s.stepStartedAt) < step.soakMinutes * 60_000) return { kind: 'none', reason: 'soaking' };
  const outcomes = outcomesOf(d.counts);
  if (outcomes === 0) return { kind: 'none', reason: 'no_outcomes' };
  if (d.counts.succeeded / outcomes < step.minSuccessRate) return { kind: 'none', reason: 'gate_failed' };
  const toStep = s.currentStep + 1;
  return { kind: 'promote', toStep, percentage: Math.max(d.percentage, s.steps[toStep]!.percentage) };
}

/** In-flight offers are indexed per deployment by offer time, so a sweep finds the overdue ones with one Query. */
export const inFlightSortKey = (offeredAt: string, deviceId: string): string => `${offeredAt}#${deviceId}`;

/** The cut-off before which an in-flight offer of this deployment has timed out, or undefined. */
export function timeoutCutoff(d: Deployment, now: Date): string | undefined {
  const minutes = d.policy?.inProgressTimeoutMinutes;
  return minutes === undefined ? undefined : new Date(now.getTime() - minutes * 60_000).toISOString();
}
