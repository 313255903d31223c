// Resolves the workspace's @tessera/* aliases for scripts run with ts-node. tsconfig-paths'
// own register hook needs a baseUrl, which tsconfig.base.json (TypeScript 6) does without.
const { resolve } = require('node:path');
const { register } = require('tsconfig-paths');
const { compilerOptions } = require('../../tsconfig.base.json');

register({ baseUrl: resolve(__dirname, '../..'), paths: compilerOptions.paths });
