module.exports = {
  displayName: 'workspace-plugin',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/tools/workspace-plugin',
  // The generator's own tests; e2e/ generates a service into a copy of the workspace (nx e2e).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/e2e/'],
};
