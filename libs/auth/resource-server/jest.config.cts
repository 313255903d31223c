module.exports = {
  displayName: 'auth-resource-server',
  preset: '../../../jest.preset.js',
  coverageDirectory: '../../../coverage/libs/auth/resource-server',
};
