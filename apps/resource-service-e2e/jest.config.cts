module.exports = {
  displayName: 'resource-service-e2e',
  preset: '../../jest.preset.js',
  // Each suite starts real service processes on ports of its own and a database of its own, and
  // spends most of its time waiting on them: two suites at a time (Jest's default on two cores
  // is one).
  maxWorkers: 2,
  testTimeout: 120000,
  // The multi-replica suite takes minutes: `npm run test:load` runs it (LOAD_REPLICAS=true) one
  // suite at a time beside nothing, and `npm test` leaves it out.
  testPathIgnorePatterns:
    process.env['LOAD_REPLICAS'] === 'true'
      ? ['/node_modules/']
      : ['/node_modules/', '/replicas\\.load\\.spec\\.ts$'],
};
