module.exports = {
  displayName: 'system-e2e',
  preset: '../../jest.preset.js',
  // Each suite starts real service processes; one suite at a time keeps ports and CPU free.
  maxWorkers: 1,
  testTimeout: 120000,
};
