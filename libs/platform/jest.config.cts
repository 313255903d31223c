module.exports = {
  displayName: 'platform',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/platform',
  // testing/ is a project of its own (platform-testing), whose run has its specs.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/testing/'],
};
