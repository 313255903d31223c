module.exports = {
  displayName: 'gateway-e2e',
  preset: '../../jest.preset.js',
  // The built gateway as a real process, in front of an in-process issuer and echo service.
  testTimeout: 60000,
};
