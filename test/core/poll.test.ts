import fc from 'fast-check';
import { MIN_POLL_SECONDS, nextCheckSeconds } from '../../lambdas/core/poll';

describe('nextCheckSeconds', () => {
  it('applies ±20 % jitter: random 0 → 80 %, 0.5 → 100 %, just under 1 → 120 %', () => {
    expect(nextCheckSeconds(900, () => 0)).toBe(720);
    expect(nextCheckSeconds(900, () => 0.5)).toBe(900);
    expect(nextCheckSeconds(900, () => 0.25)).toBe(810);
    expect(nextCheckSeconds(900, () => 0.999999)).toBe(1080);
    expect(nextCheckSeconds(3600, () => 0)).toBe(2880);
  });

  it('never goes below the minimum poll interval', () => {
    expect(MIN_POLL_SECONDS).toBe(30);
    expect(nextCheckSeconds(30, () => 0)).toBe(30); // 24 → 30
    expect(nextCheckSeconds(1, () => 0.999)).toBe(30);
    expect(nextCheckSeconds(0, () => 0.5)).toBe(30);
    expect(nextCheckSeconds(37.5, () => 0)).toBe(30);
    expect(nextCheckSeconds(40, () => 0)).toBe(32);
  });

  it('returns whole seconds within [80 %, 120 %] of the base (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (base, r) => {
        const s = nextCheckSeconds(base, () => r);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(Math.max(MIN_POLL_SECONDS, Math.floor(base * 0.8)));
        expect(s).toBeLessThanOrEqual(Math.max(MIN_POLL_SECONDS, Math.ceil(base * 1.2)));
      }),
    );
  });

  it('is monotonic in the random draw (property)', () => {
    const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400 }), unit, unit, (base, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(nextCheckSeconds(base, () => lo)).toBeLessThanOrEqual(nextCheckSeconds(base, () => hi));
      }),
    );
  });

  it('uses Math.random by default and actually spreads a fleet', () => {
    const samples = Array.from({ length: 2000 }, () => nextCheckSeconds(900));
    for (const s of samples) {
      expect(s).toBeGreaterThanOrEqual(720);
      expect(s).toBeLessThanOrEqual(1080);
    }
    expect(Math.min(...samples)).toBeLessThan(760);
    expect(Math.max(...samples)).toBeGreaterThan(1040);
    expect(new Set(samples).size).toBeGreaterThan(200);
  });
});
