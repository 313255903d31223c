module.exports = {
  displayName: 'auth-service',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/auth-service',
  // openid-client (the relying party of the hosted pages' browser test) and its dependencies
  // oauth4webapi and jose ship only ES modules; the preset's SWC transform compiles these
  // three to CommonJS, as in auth-service-e2e.
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose)/)'],
};
