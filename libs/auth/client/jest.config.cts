module.exports = {
  displayName: 'auth-client',
  preset: '../../../jest.preset.js',
  coverageDirectory: '../../../coverage/libs/auth/client',
  // No specs of its own yet: auth-resource-server's revocation-feed and service-token specs test
  // these classes against a real auth-service stand-in. An empty run is not a failure.
  passWithNoTests: true,
};
