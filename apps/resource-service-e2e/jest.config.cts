module.exports = {
  displayName: 'resource-service-e2e',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  globalSetup: '<rootDir>/../../libs/platform/src/testing/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/platform/src/testing/jest-global-teardown.ts',
  // Each suite starts real service processes; running suites one at a time keeps ports and CPU free.
  maxWorkers: 1,
  testTimeout: 120000,
};
