module.exports = {
  displayName: 'auth-token',
  preset: '../../../jest.preset.js',
  coverageDirectory: '../../../coverage/libs/auth/token',
};
