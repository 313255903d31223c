const nxPreset = require('@nx/jest/preset').default;

// Every Tessera project tests the same way: TypeScript through ts-jest with the project's own
// tsconfig.spec.json, and one real PostgreSQL per run (or the server in DATABASE_URL) from
// @tessera/platform's global setup; each suite creates its own database on it. All projects sit
// two folders below the root, which the paths rely on.
module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  globalSetup: '<rootDir>/../../libs/platform/src/testing/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/platform/src/testing/jest-global-teardown.ts',
  testTimeout: 30000,
};
