/** Jest runs the TypeScript sources directly (transpile only; `tsc --noEmit` type-checks in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // middy 7 ships ESM only; transpile it (and our TS) to CommonJS for Jest.
    '^.+\\.(t|j|mj)s$': ['ts-jest', { isolatedModules: true, tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 30000,
};
