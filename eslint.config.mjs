import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/.data', '**/coverage', '**/tmp'],
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs', '**/*.cts', '**/*.mts'],
    rules: {
      // Who may import whom (docs/architecture.md). Every tag has its row; there is no wildcard,
      // so a new project must be given tags before it can import anything.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$'],
          depConstraints: [
            {
              sourceTag: 'scope:auth-service',
              onlyDependOnLibsWithTags: ['scope:auth-service', 'scope:shared'],
            },
            {
              sourceTag: 'scope:resource-service',
              onlyDependOnLibsWithTags: ['scope:resource-service', 'scope:shared'],
            },
            {
              sourceTag: 'scope:gateway',
              onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'],
            },
            // The example web app runs in a browser: none of the Nest libraries is for it.
            { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:web', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            // Layers, from the top: an app wires features; a feature (a Nest module) may use
            // data-access (clients of other services) and util (pure code); test kits
            // (type:testing) are for specs only, which the rule after this one enforces.
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:feature',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:data-access',
              onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:testing'],
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:testing'] },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:util',
                'type:testing',
              ],
            },
            // Workspace tooling (the Nx plugin): it may use the shared libraries' test kits.
            {
              sourceTag: 'type:tool',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:util',
                'type:testing',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    // Nest injects by the constructor's emitted parameter types: with this the rule below keeps
    // injected classes as value imports instead of turning them into `import type` (which breaks DI).
    languageOptions: {
      parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Test kits are for tests: a service or library that imported one would ship it.
    files: ['apps/*/src/**/*.ts', 'libs/**/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.spec-helper.ts', 'apps/*-e2e/**', 'libs/**/testing/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tessera/*-testing'], message: 'Test kits are for *.spec.ts files only.' },
          ],
        },
      ],
    },
  },
  {
    // Scripts and tests talk to a terminal; services use the Nest logger.
    files: ['tools/**', '**/*.spec.ts', 'apps/*-e2e/**'],
    rules: { 'no-console': 'off' },
  },
];
