const { join } = require('node:path');
const nxPreset = require('@nx/jest/preset').default;

// Every Tessera project tests the same way: TypeScript through ts-jest with the project's own
// tsconfig.spec.json, and one real PostgreSQL per run (or the server in DATABASE_URL) from
// @tessera/platform's global setup; each suite creates its own database on it.
// The specs' tsconfig sets isolatedModules, so ts-jest only transpiles each file (decorator
// metadata included, which Nest's injection needs) and checks no types: each project's
// `typecheck` target (tools/nx/typecheck-plugin.js, run by `npm test`) does that, once.
module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  globalSetup: join(__dirname, 'libs/platform/testing/src/jest-global-setup.ts'),
  globalTeardown: join(__dirname, 'libs/platform/testing/src/jest-global-teardown.ts'),
  testTimeout: 30000,
};
