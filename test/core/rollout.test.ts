import { ZERO_COUNTS, type DeploymentCounts } from '../../lambdas/core/model';
import { countsSinceResume, failuresOf, inFlightOf, nextStep, outcomesOf, policyBreach, timeoutCutoff } from '../../lambdas/core/rollout';
import { deployment } from '../fixtures/deployment';

const counts = (over: Partial<DeploymentCounts> = {}): DeploymentCounts => ({
  ...ZERO_COUNTS,
  ...over,
});

describe('counters', () => {
  it('counts failed, rolled back and timed out as failures; in flight is what is offered and unfinished', () => {
    const c = counts({ offered: 10, succeeded: 3, failed: 1, rolledBack: 1, timedOut: 2 });
    expect(failuresOf(c)).toBe(4);
    expect(outcomesOf(c)).toBe(7);
    expect(inFlightOf(c)).toBe(3);
    expect(inFlightOf(counts({ offered: 1, succeeded: 2 }))).toBe(0);
  });
});

describe('policyBreach', () => {
  it('is silent without a policy or below its thresholds', () => {
    expect(policyBreach(undefined, counts({ failed: 100 }))).toBeUndefined();
    expect(policyBreach({ maxFailures: 5 }, counts({ failed: 4 }))).toBeUndefined();
  });

  it('breaches max_failures at the threshold, counting timeouts and rollbacks', () => {
    expect(policyBreach({ maxFailures: 5 }, counts({ failed: 2, rolledBack: 2, timedOut: 1 }))).toMatch(/5 failures reached max_failures 5/);
  });

  it('breaches max_failure_rate only once min_sample outcomes exist', () => {
    const policy = { maxFailureRate: 0.5, minSample: 4 };
    expect(policyBreach(policy, counts({ failed: 3 }))).toBeUndefined();
    expect(policyBreach(policy, counts({ failed: 2, succeeded: 2 }))).toMatch(/failure rate 0\.500/);
    expect(policyBreach(policy, counts({ failed: 1, succeeded: 3 }))).toBeUndefined();
  });

  it('judges only what happened since the last resume', () => {
    const d = deployment(1, { counts: counts({ failed: 7, succeeded: 3 }), policyBaseline: { succeeded: 3, failed: 6, rolledBack: 0, timedOut: 0 } });
    expect(countsSinceResume(d)).toMatchObject({ failed: 1, succeeded: 0 });
    expect(policyBreach({ maxFailures: 5 }, countsSinceResume(d))).toBeUndefined();
    expect(countsSinceResume(deployment(1, { counts: counts({ failed: 7 }) })).failed).toBe(7);
  });
});

describe('nextStep', () => {
  const start = '2026-11-26T00:00:00.000Z';
  const at = (minutes: number) => new Date(Date.parse(start) + minutes * 60_000);
  const scheduled = (over: Partial<DeploymentCounts> = {}, currentStep = 0) =>
    deployment(1, {
      percentage: 1,
      counts: counts(over),
      schedule: {
        steps: [
          { percentage: 1, soakMinutes: 60, minSuccessRate: 0.9 },
          { percentage: 25, soakMinutes: 60, minSuccessRate: 0.9 },
          { percentage: 100, soakMinutes: 0, minSuccessRate: 0 },
        ],
        currentStep,
        stepStartedAt: start,
      },
    });

  it('waits for the soak, then for proof (outcomes), then for the success rate', () => {
    expect(nextStep(deployment(1), at(999))).toEqual({ kind: 'none', reason: 'no_schedule' });
    expect(nextStep(scheduled({ succeeded: 10 }), at(59))).toEqual({ kind: 'none', reason: 'soaking' });
    expect(nextStep(scheduled(), at(61))).toEqual({ kind: 'none', reason: 'no_outcomes' });
    expect(nextStep(scheduled({ succeeded: 8, failed: 2 }), at(61))).toEqual({ kind: 'none', reason: 'gate_failed' });
    expect(nextStep(scheduled({ succeeded: 9, failed: 1 }), at(61))).toEqual({ kind: 'promote', toStep: 1, percentage: 25 });
  });

  it('stops at the last step and never while paused', () => {
    expect(nextStep(scheduled({ succeeded: 10 }, 2), at(999))).toEqual({ kind: 'none', reason: 'last_step' });
    expect(nextStep({ ...scheduled({ succeeded: 10 }), state: 'paused' }, at(999))).toEqual({ kind: 'none', reason: 'not_active' });
  });

  it('never lowers a percentage an operator raised beyond the next step', () => {
    expect(nextStep({ ...scheduled({ succeeded: 10 }), percentage: 50 }, at(61))).toEqual({ kind: 'promote', toStep: 1, percentage: 50 });
  });
});

describe('timeoutCutoff', () => {
  it('is now minus the in-progress timeout, or nothing without one', () => {
    expect(timeoutCutoff(deployment(1), new Date('2026-11-26T01:00:00Z'))).toBeUndefined();
    expect(timeoutCutoff(deployment(1, { policy: { inProgressTimeoutMinutes: 30 } }), new Date('2026-11-26T01:00:00Z'))).toBe('2026-11-26T00:30:00.000Z');
  });
});
