module.exports = {
  displayName: 'resource-service',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/resource-service',
};
