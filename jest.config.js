/** Tests are ESM TypeScript; ts-jest only transpiles (isolatedModules), `tsc --noEmit` type-checks in `npm test`. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }] },
  testTimeout: 30000,
  testSequencer: '<rootDir>/test/lane-sequencer.cjs',
  reporters: ['default', '<rootDir>/test/summary-reporter.cjs'],
};
