module.exports = {
  displayName: 'web-e2e',
  preset: '../../jest.preset.js',
  // One suite: the built services, the web app's server and one headless Chromium.
  testTimeout: 120000,
};
