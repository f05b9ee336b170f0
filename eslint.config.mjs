// House style, enforced by `npm test` (`npm run lint`). Formatting is Prettier's (`npm run format`).
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Modules CDK code may import from lambdas/: the contract and other pure data (no SDK, no runtime). */
const PURE_FOR_CDK = [
  './lambdas/contract',
  './lambdas/protocols/*/contract.ts',
  './lambdas/core',
  './lambdas/routes.ts',
  './lambdas/shared/table-schema.ts',
  './lambdas/shared/env.ts',
  './lambdas/shared/timeouts.ts',
  './lambdas/shared/metric-names.ts',
];

/** History belongs in commit messages: "Fix: … used to …" comments describe a past, not the code. */
const noChangelogComments = {
  meta: {
    type: 'suggestion',
    messages: { changelog: 'Changelog-style comment ("{{match}}"): say why the code is as it is; history goes in the commit message.' },
  },
  create(context) {
    return {
      Program() {
        for (const c of context.sourceCode.getAllComments()) {
          const m = /(?:^|[\s(])(Fix:|(?:it|this|that) used to\b)/.exec(c.value);
          if (m) context.report({ loc: c.loc, messageId: 'changelog', data: { match: m[1] } });
        }
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', '.ota-local/**', 'build/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js', '.mjs', '.json'] } } },
    plugins: { 'import-x': importX, house: { rules: { 'no-changelog-comments': noChangelogComments } } },
    rules: {
      'house/no-changelog-comments': 'error',
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', ['internal', 'parent', 'sibling', 'index']],
          'newlines-between': 'ignore',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './lambdas/core',
              from: ['./lambdas', './lib', './bin'],
              except: ['./core'],
              message: 'core/ is pure domain: it imports nothing outside core/.',
            },
            {
              target: './lib/constructs',
              from: './lambdas',
              except: PURE_FOR_CDK.map((p) => p.replace('./lambdas/', './')),
              message: 'CDK constructs import only the contract and other pure data from lambdas/.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      // A `let` a closure reads before it is assigned cannot be `const`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests may reach into anything and use `any` for wire bodies; the boundaries above still hold for source.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
