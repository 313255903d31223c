module.exports = {
  displayName: 'auth-testing',
  preset: '../../../jest.preset.js',
  coverageDirectory: '../../../coverage/libs/auth/testing',
};
