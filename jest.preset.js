const { join } = require('node:path');
const nxPreset = require('@nx/jest/preset').default;

// Every Tessera project tests the same way: TypeScript compiled by SWC (@swc/jest), and one real
// PostgreSQL per run (or the server in DATABASE_URL) from @tessera/platform's global setup; each
// suite creates its own database on it.
// SWC only transpiles each file, with the decorators and decorator metadata Nest's injection needs,
// and checks no types: each project's `typecheck` target (tools/nx/typecheck-plugin.js, run by
// `npm test`) does that, once. It compiles what a test run loads about twenty times faster than
// ts-jest's transpiler, which on a cold cache (every CI run) cost each Jest project a minute of CPU.
// The options mirror tsconfig.base.json: legacy decorators with metadata, class fields assigned
// in the constructor (useDefineForClassFields: false), ES2022, CommonJS for Jest.
const swc = {
  swcrc: false,
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
};

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', swc],
  },
  moduleFileExtensions: ['ts', 'js'],
  globalSetup: join(__dirname, 'libs/platform/testing/src/jest-global-setup.ts'),
  globalTeardown: join(__dirname, 'libs/platform/testing/src/jest-global-teardown.ts'),
  testTimeout: 30000,
};
