module.exports = {
  displayName: 'auth-client',
  preset: '../../../jest.preset.js',
  coverageDirectory: '../../../coverage/libs/auth/client',
};
