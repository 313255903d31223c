// A `typecheck` target for every project with a tsconfig.spec.json: `tsc --noEmit` over every
// source file of the project, specs included (the spec config's `src/**/*.ts`). Jest compiles each
// file on its own without type information (the specs' isolatedModules, for speed), and the
// webpack builds only transpile (`skipTypeChecking`): this is where types are checked, once per
// project and cached by Nx. `npm test` runs it with the tests; a generated service gets it too.
const { dirname, join } = require('node:path');
const { existsSync } = require('node:fs');

const SPEC_CONFIG = 'tsconfig.spec.json';

/** @type {import('@nx/devkit').CreateNodesV2} */
exports.createNodesV2 = [
  `**/${SPEC_CONFIG}`,
  (configFiles, _options, context) =>
    configFiles
      .map((file) => [file, dirname(file)])
      .filter(
        ([, root]) =>
          existsSync(join(context.workspaceRoot, root, 'project.json')) ||
          existsSync(join(context.workspaceRoot, root, 'package.json')),
      )
      .map(([file, root]) => [
        file,
        {
          projects: {
            [root]: {
              targets: {
                typecheck: {
                  executor: 'nx:run-commands',
                  cache: true,
                  inputs: ['default', '^production', { externalDependencies: ['typescript'] }],
                  outputs: [],
                  options: { command: `tsc --noEmit -p ${SPEC_CONFIG}`, cwd: root },
                  metadata: { description: "Type-checks the project's specs and what they import" },
                },
              },
            },
          },
        },
      ]),
];
