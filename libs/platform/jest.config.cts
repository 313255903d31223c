module.exports = {
  displayName: 'platform',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  // One real PostgreSQL per run (or the server in DATABASE_URL); each suite makes its own database.
  globalSetup: '<rootDir>/../../libs/platform/src/testing/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/platform/src/testing/jest-global-teardown.ts',
  testTimeout: 30000,
  coverageDirectory: '../../coverage/libs/platform',
};
