module.exports = {
  displayName: 'auth-service-e2e',
  preset: '../../jest.preset.js',
  // openid-client and its dependencies oauth4webapi and jose ship only ES modules (`.js` under
  // "type": "module"), which Jest's CommonJS runtime cannot load, and Jest transforms nothing in
  // node_modules by default. Letting these three through is enough: the preset's SWC transform
  // already matches `.js`, and compiles their ES modules to CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose)/)'],
  // Each suite starts real service processes on ports of its own and a database of its own, and
  // spends most of its time waiting on them: two suites at a time (Jest's default on two cores
  // is one).
  maxWorkers: 2,
  testTimeout: 120000,
};
