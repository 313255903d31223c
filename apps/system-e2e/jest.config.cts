module.exports = {
  displayName: 'system-e2e',
  preset: '../../jest.preset.js',
  // Each suite starts real service processes on ports of its own and a database of its own, and
  // spends most of its time waiting on them: two suites at a time (Jest's default on two cores
  // is one).
  maxWorkers: 2,
  testTimeout: 120000,
};
