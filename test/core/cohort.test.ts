import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { cohortBucket, inCohort, percentageToBasisPoints } from '../../lambdas/core/cohort';

/** Independent reimplementation of the documented formula, for comparison. */
const expectedBucket = (seed: string, deviceId: string): number => {
  const hex = createHash('sha256')
    .update(Buffer.from(`${seed}:${deviceId}`, 'utf8'))
    .digest('hex');
  return parseInt(hex.slice(0, 8), 16) % 10000;
};

const seedArb = fc.string({ minLength: 0, maxLength: 24 });
const deviceIdArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 32 }),
  fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':')),
);
/** 0–100 with two decimals, as deployments store it. */
const percentageArb = fc.integer({ min: 0, max: 10000 }).map((bp) => bp / 100);

describe('cohortBucket', () => {
  it('matches known answers (first 32 bits of sha256, computed with sha256sum, mod 10000)', () => {
    // printf 'rollout-42:AA:BB:CC:DD:EE:FF' | sha256sum → 2c503e90… → 0x2c503e90 % 10000 = 6400
    expect(cohortBucket('rollout-42', 'AA:BB:CC:DD:EE:FF')).toBe(0x2c503e90 % 10000);
    expect(cohortBucket('rollout-42', 'AA:BB:CC:DD:EE:FF')).toBe(6400);
    // printf 's:dev-1' | sha256sum → c22d8574…
    expect(cohortBucket('s', 'dev-1')).toBe(3188);
    // printf 'seed:device-0001' | sha256sum → 252235ea…
    expect(cohortBucket('seed', 'device-0001')).toBe(9018);
  });

  it('equals the independently computed bucket for any seed and device id (property)', () => {
    fc.assert(
      fc.property(seedArb, deviceIdArb, (seed, id) => {
        expect(cohortBucket(seed, id)).toBe(expectedBucket(seed, id));
      }),
    );
  });

  it('hashes UTF-8, not UTF-16 or latin1', () => {
    expect(cohortBucket('sé', 'дев-1')).toBe(expectedBucket('sé', 'дев-1'));
    const latin1 = parseInt(createHash('sha256').update(Buffer.from('sé:x', 'latin1')).digest('hex').slice(0, 8), 16) % 10000;
    expect(cohortBucket('sé', 'x')).not.toBe(latin1);
  });

  it('is an integer in [0, 10000) and deterministic (property)', () => {
    fc.assert(
      fc.property(seedArb, deviceIdArb, (seed, id) => {
        const b = cohortBucket(seed, id);
        expect(Number.isInteger(b)).toBe(true);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThan(10000);
        expect(cohortBucket(seed, id)).toBe(b);
      }),
    );
  });

  it('depends on the seed (the same device lands in different buckets under different seeds)', () => {
    const buckets = new Set(Array.from({ length: 20 }, (_, i) => cohortBucket(`seed-${i}`, 'AA:BB:CC:DD:EE:FF')));
    expect(buckets.size).toBeGreaterThan(15);
  });
});

describe('percentageToBasisPoints', () => {
  it('maps every two-decimal percentage exactly, despite binary floating point (e.g. 0.29 × 100 = 28.999…)', () => {
    const wrong: number[] = [];
    for (let bp = 0; bp <= 10000; bp++) if (percentageToBasisPoints(bp / 100) !== bp) wrong.push(bp);
    expect(wrong).toEqual([]);
    expect(percentageToBasisPoints(0.29)).toBe(29);
    expect(percentageToBasisPoints(57.35)).toBe(5735);
  });

  it.each([-0.01, -1, 100.01, 101, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('rejects %p', (p) => {
    expect(() => percentageToBasisPoints(p)).toThrow(RangeError);
  });
});

describe('inCohort', () => {
  it('is in exactly when bucket < percentage × 100 (boundary)', () => {
    const b = expectedBucket('rollout-42', 'AA:BB:CC:DD:EE:FF'); // 6400
    expect(inCohort('rollout-42', 'AA:BB:CC:DD:EE:FF', b / 100)).toBe(false);
    expect(inCohort('rollout-42', 'AA:BB:CC:DD:EE:FF', (b + 1) / 100)).toBe(true);
    expect(inCohort('rollout-42', 'AA:BB:CC:DD:EE:FF', 64)).toBe(false);
    expect(inCohort('rollout-42', 'AA:BB:CC:DD:EE:FF', 64.01)).toBe(true);
  });

  it('agrees with the formula for any device and percentage (property)', () => {
    fc.assert(
      fc.property(seedArb, deviceIdArb, fc.integer({ min: 0, max: 10000 }), (seed, id, bp) => {
        expect(inCohort(seed, id, bp / 100)).toBe(expectedBucket(seed, id) < bp);
      }),
    );
  });

  it('is deterministic (property)', () => {
    fc.assert(
      fc.property(seedArb, deviceIdArb, percentageArb, (seed, id, p) => {
        const first = inCohort(seed, id, p);
        for (let i = 0; i < 3; i++) expect(inCohort(seed, id, p)).toBe(first);
      }),
    );
  });

  it('is monotonic: raising the percentage never drops a device (property)', () => {
    fc.assert(
      fc.property(seedArb, deviceIdArb, percentageArb, percentageArb, (seed, id, p, q) => {
        const [lo, hi] = p <= q ? [p, q] : [q, p];
        if (inCohort(seed, id, lo)) expect(inCohort(seed, id, hi)).toBe(true);
      }),
    );
  });

  it('0 % has nobody and 100 % has everyone (property)', () => {
    fc.assert(
      fc.property(seedArb, deviceIdArb, (seed, id) => {
        expect(inCohort(seed, id, 0)).toBe(false);
        expect(inCohort(seed, id, 100)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('selects roughly the requested share of a large fleet', () => {
    const ids = Array.from({ length: 20000 }, (_, i) => `device-${i.toString().padStart(5, '0')}`);
    for (const p of [1, 10, 25, 50, 90]) {
      const share = ids.filter((id) => inCohort('rollout-7', id, p)).length / ids.length;
      // σ ≤ 0.35 % at n = 20000; ±2 percentage points is a loose bound.
      expect(Math.abs(share * 100 - p)).toBeLessThan(2);
    }
  });

  it('spreads buckets roughly uniformly over ten deciles', () => {
    const counts = new Array<number>(10).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[Math.floor(cohortBucket('uniformity', `AA:BB:CC:${i}`) / 1000)]++;
    for (const c of counts) {
      expect(c).toBeGreaterThan(n / 10 - 400); // expected 2000, σ ≈ 42
      expect(c).toBeLessThan(n / 10 + 400);
    }
  });

  it('draws independent cohorts under different seeds (≈25 % overlap at 50 % each)', () => {
    const ids = Array.from({ length: 10000 }, (_, i) => `dev-${i}`);
    const both = ids.filter((id) => inCohort('seed-a', id, 50) && inCohort('seed-b', id, 50)).length;
    expect(both / ids.length).toBeGreaterThan(0.22);
    expect(both / ids.length).toBeLessThan(0.28);
  });
});
