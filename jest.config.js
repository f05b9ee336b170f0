/** Jest runs the TypeScript sources directly (transpile only; `tsc --noEmit` type-checks in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // middy 7 ships ESM only; transpile it (and our TS) to CommonJS for Jest.
    '^.+\\.(t|j|mj)s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  // middy's package exports only an `import` condition, which Jest's CommonJS resolver skips.
  moduleNameMapper: {
    '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 30000,
};
