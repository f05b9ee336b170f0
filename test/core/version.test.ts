import fc from 'fast-check';
import { DomainError } from '../../lambdas/core/errors';
import { compareVersions, isNewerVersion, isValidVersion, parseVersion, versionIdentity } from '../../lambdas/core/version';

/** Asserts that `ordered` is strictly ascending under compareVersions, pairwise, in both directions. */
const expectStrictlyAscending = (ordered: readonly string[]) => {
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      const want = i < j ? -1 : i > j ? 1 : 0;
      expect([ordered[i], ordered[j], compareVersions(ordered[i], ordered[j])]).toEqual([ordered[i], ordered[j], want]);
    }
  }
};

describe('version ordering: semver', () => {
  it('orders major, minor and patch numerically, not lexically', () => {
    expectStrictlyAscending(['0.0.1', '0.0.2', '0.0.10', '0.1.0', '0.9.0', '0.10.0', '1.0.0', '1.9.9', '1.10.0', '2.0.0', '10.0.0']);
  });

  it('orders prereleases as the semver spec does (alpha < alpha.1 < beta < rc.1 < release)', () => {
    expectStrictlyAscending(['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-rc.1', '1.0.0']);
  });

  it('follows the full precedence example of semver §11', () => {
    expectStrictlyAscending(['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0']);
  });

  it('sorts a shuffled list into semver order', () => {
    const sorted = ['1.0.0', '1.0.0-rc.1', '0.9.9', '1.0.0-alpha', '1.0.1', '1.0.0-beta', '1.0.0-alpha.1'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-rc.1', '1.0.0', '1.0.1']);
  });

  it('ranks numeric prerelease identifiers below alphanumeric ones and compares them as numbers', () => {
    expect(compareVersions('1.0.0-1', '1.0.0-alpha')).toBe(-1);
    expect(compareVersions('1.0.0-alpha', '1.0.0-1')).toBe(1);
    expect(compareVersions('1.0.0-rc.2', '1.0.0-rc.10')).toBe(-1);
    // Alphanumeric identifiers compare in ASCII order: upper case sorts before lower case.
    expect(compareVersions('1.0.0-Beta', '1.0.0-alpha')).toBe(-1);
  });

  it('a prerelease of a higher version outranks a release of a lower one', () => {
    expect(compareVersions('1.0.1-alpha', '1.0.0')).toBe(1);
    expect(compareVersions('2.0.0-rc.1', '1.99.99')).toBe(1);
  });

  it('ignores build metadata', () => {
    expect(compareVersions('1.2.3+abc', '1.2.3')).toBe(0);
    expect(compareVersions('1.2.3+build.1', '1.2.3+build.2')).toBe(0);
    expect(compareVersions('1.2.3-rc.1+sha.5114f85', '1.2.3-rc.1')).toBe(0);
    expect(compareVersions('1.2.3+zzz', '1.2.4+aaa')).toBe(-1);
    expect(parseVersion('1.2.3-rc.1+sha.5114f85')).toEqual({ core: [1, 2, 3], prerelease: ['rc', 1] });
  });

  it('accepts an optional leading v', () => {
    expect(compareVersions('v1.2.3', '1.2.3')).toBe(0);
    expect(compareVersions('V2.0.0', 'v1.9.9')).toBe(1);
  });

  it('treats missing trailing segments as zero', () => {
    expect(compareVersions('1.0', '1.0.0')).toBe(0);
    expect(compareVersions('1', '1.0.0.0')).toBe(0);
    expect(compareVersions('1.0.0.1', '1.0')).toBe(1);
  });

  it('agrees with a plain lexicographic comparison of numeric tuples (property)', () => {
    const seg = fc.integer({ min: 0, max: 99999 });
    const triple = fc.tuple(seg, seg, seg);
    const oracle = (a: number[], b: number[]) => {
      for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return 0;
    };
    fc.assert(
      fc.property(triple, triple, (a, b) => {
        expect(compareVersions(a.join('.'), b.join('.'))).toBe(oracle(a, b));
      }),
    );
  });

  it('is antisymmetric and consistent with sorting (property)', () => {
    const ident = fc.oneof(fc.integer({ min: 0, max: 50 }).map(String), fc.constantFrom('alpha', 'beta', 'rc', 'Beta', 'x-1'));
    const version = fc
      .record({
        core: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 4 }),
        pre: fc.array(ident, { maxLength: 3 }),
        build: fc.option(fc.constantFrom('sha.1', 'b2'), { nil: undefined }),
      })
      .map(({ core, pre, build }) => `${core.join('.')}${pre.length ? `-${pre.join('.')}` : ''}${build ? `+${build}` : ''}`);
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
        // Transitivity of <=.
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });
});

describe('version ordering: calendar and numeric', () => {
  it('orders calendar versions by year, month and sequence numerically', () => {
    expectStrictlyAscending(['2025.12.999', '2026.03.001', '2026.03.002', '2026.03.010', '2026.03.100', '2026.10.001', '2027.01.001']);
  });

  it('ignores leading zeros in calendar segments', () => {
    expect(compareVersions('2026.03.001', '2026.3.1')).toBe(0);
    expect(parseVersion('2026.03.010')).toEqual({ core: [2026, 3, 10], prerelease: [] });
  });

  it('orders plain numeric versions as numbers', () => {
    expectStrictlyAscending(['1', '2', '9', '10', '42', '100', '1000']);
    expect(compareVersions('007', '7')).toBe(0);
  });
});

describe('version validation', () => {
  it.each(['1', '1.2', '1.2.3', '1.2.3.4', 'v1.2.3', '2026.03.001', '1.0.0-rc.1', '1.0.0+sha', '1.0.0-x-y.z+b.1', '0.0.0'])('accepts %s', (v) => {
    expect(isValidVersion(v)).toBe(true);
  });

  it.each([
    '',
    'v',
    'latest',
    '1.2.3.4.5',
    '1.',
    '.1',
    '1..2',
    '1.2.x',
    ' 1.2.3',
    '1.2.3 ',
    '1.2.3-',
    '1.2.3+',
    '1.2.3-rc..1',
    '1.2.3-rc_1',
    '-1.2.3',
    '12345678901.0.0', // 11 digits in a segment
    `1.0.0-${'a'.repeat(60)}`, // longer than 64 characters
  ])('rejects %j', (v) => {
    expect(isValidVersion(v)).toBe(false);
    expect(parseVersion(v)).toBeUndefined();
  });

  it('rejects non-strings without throwing', () => {
    expect(isValidVersion(undefined as unknown as string)).toBe(false);
    expect(isValidVersion(123 as unknown as string)).toBe(false);
  });

  it('compareVersions throws an invalid_version DomainError naming the bad operand', () => {
    const attempt = (a: string, b: string) => {
      try {
        compareVersions(a, b);
      } catch (e) {
        return e;
      }
      throw new Error('compareVersions did not throw');
    };
    const left = attempt('nope', '1.0.0');
    expect(left).toBeInstanceOf(DomainError);
    expect(left).toMatchObject({ kind: 'invalid', code: 'invalid_version' });
    expect((left as Error).message).toContain('"nope"');
    const right = attempt('1.0.0', 'also-bad');
    expect((right as Error).message).toContain('"also-bad"');
    expect((right as Error).message).not.toContain('1.0.0');
  });
});

describe('isNewerVersion', () => {
  it('is true only for a strictly newer candidate', () => {
    expect(isNewerVersion('1.0.1', '1.0.0')).toBe(true);
    expect(isNewerVersion('1.0.0', '1.0.0')).toBe(false);
    expect(isNewerVersion('1.0.0', '1.0.0+other-build')).toBe(false);
    expect(isNewerVersion('0.9.0', '1.0.0')).toBe(false);
    expect(isNewerVersion('1.0.0', '1.0.0-rc.1')).toBe(true);
    expect(isNewerVersion('1.0.0-rc.1', '1.0.0')).toBe(false);
    expect(isNewerVersion('2026.03.010', '2026.03.002')).toBe(true);
  });

  it('treats an unknown current version as older than anything', () => {
    expect(isNewerVersion('0.0.1', undefined)).toBe(true);
  });

  it('with an unparsable version on either side, offers only when the strings differ', () => {
    expect(isNewerVersion('1.0.0', 'garbage')).toBe(true);
    expect(isNewerVersion('garbage', 'garbage')).toBe(false);
    expect(isNewerVersion('garbage', '1.0.0')).toBe(true);
  });
});

describe('versionIdentity', () => {
  it('one identity for a leading v and for build metadata (semver: no precedence)', () => {
    expect(versionIdentity('v1.3.0')).toBe(versionIdentity('1.3.0'));
    expect(versionIdentity('V1.3.0')).toBe('1.3.0');
    expect(versionIdentity('1.3.1+5')).toBe(versionIdentity('1.3.1'));
    expect(versionIdentity('v1.3.1-rc.1+sha.abc')).toBe('1.3.1-rc.1');
  });

  it('keeps distinct versions distinct, and an unparsable string as itself', () => {
    expect(versionIdentity('1.3.0')).not.toBe(versionIdentity('1.3.1'));
    expect(versionIdentity('1.3.0-rc.1')).not.toBe(versionIdentity('1.3.0'));
    expect(versionIdentity('2026.03.001')).toBe('2026.03.001');
    expect(versionIdentity('banana')).toBe('banana');
  });
});
