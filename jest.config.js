/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is `npm run typecheck`; here TypeScript is only transpiled, for speed.
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // Integration and e2e suites run real ffmpeg ladders; on a 2-core machine two at once is the limit.
  maxWorkers: 2,
  testTimeout: 30_000,
  reporters: ['default', ['<rootDir>/test/support/summary-reporter.js', {}]],
};
