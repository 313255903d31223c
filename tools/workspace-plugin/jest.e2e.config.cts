module.exports = {
  displayName: 'workspace-plugin-e2e',
  preset: '../../jest.preset.js',
  roots: ['<rootDir>/e2e'],
  maxWorkers: 1,
  // Builds, lints and tests a generated service in a copy of the workspace.
  testTimeout: 600000,
};
