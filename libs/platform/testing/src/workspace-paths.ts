import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { register } from 'tsconfig-paths';

/**
 * Jest loads its global setup and teardown with Node's own resolution, without the workspace's
 * `@tessera/*` aliases that test files get; this registers them (tsconfig-paths needs a baseUrl,
 * which tsconfig.base.json does without).
 */
const root = resolve(__dirname, '../../../..');
const { compilerOptions } = JSON.parse(readFileSync(resolve(root, 'tsconfig.base.json'), 'utf8'));
register({ baseUrl: root, paths: compilerOptions.paths });
