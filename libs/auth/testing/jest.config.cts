module.exports = {
  displayName: 'auth-testing',
  preset: '../../../jest.preset.js',
  coverageDirectory: '../../../coverage/libs/auth/testing',
  // No specs of its own: the test issuer is tested by the specs that use it. An empty run passes.
  passWithNoTests: true,
};
