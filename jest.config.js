/** Tests are ESM TypeScript; ts-jest only transpiles (isolatedModules), `tsc --noEmit` type-checks in `npm test`. */
export default {
  testEnvironment: 'node',
  // jest 30's default ('soft') wraps globals left by a test file in accessors at teardown; a late event
  // (a child process exiting under load) that assigns one recursed until 'Maximum call stack size
  // exceeded' and failed the file. Each file runs in its own context anyway.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }] },
  // A hang guard: tests wait for what they expect (helpers.ts waitFor, statusWhen), up to 30 s each.
  testTimeout: 120_000,
  testSequencer: '<rootDir>/test/lane-sequencer.cjs',
  reporters: ['default', '<rootDir>/test/summary-reporter.cjs'],
};
