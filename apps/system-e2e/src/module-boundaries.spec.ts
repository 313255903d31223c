import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(__dirname, '../../..');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/**
 * One ESLint for every probe, outside Jest (the flat config is loaded with import(), which Jest's
 * VM refuses): it loads the workspace's config and Nx's project graph once, then lints each
 * `{ id, filePath, source }` line it reads and answers with a `{ id, messages }` line.
 */
const LINT_SERVER = `
const { ESLint } = require('eslint');
const eslint = new ESLint({ cwd: process.cwd() });
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, filePath, source } = JSON.parse(line);
  const [result] = await eslint.lintText(source, { filePath });
  process.stdout.write(JSON.stringify({ id, messages: result ? result.messages : [] }) + '\\n');
});
`;

let linter: ChildProcessWithoutNullStreams;
let linterErrors = '';
const waiting = new Map<
  number,
  { answer: (messages: LintMessage[]) => void; fail: (error: Error) => void }
>();
let nextId = 0;

beforeAll(() => {
  linter = spawn(process.execPath, ['-e', LINT_SERVER], {
    cwd: root,
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  linter.stderr.on('data', (chunk: Buffer) => (linterErrors += chunk.toString()));
  createInterface({ input: linter.stdout }).on('line', (line) => {
    const { id, messages } = JSON.parse(line) as { id: number; messages: LintMessage[] };
    waiting.get(id)?.answer(messages);
    waiting.delete(id);
  });
  linter.once('exit', (code) => {
    for (const { fail } of waiting.values()) {
      fail(new Error(`ESLint exited with ${code}:\n${linterErrors}`));
    }
  });
});
afterAll(async () => {
  linter.stdin.end();
  await new Promise((done) => (linter.exitCode === null ? linter.once('exit', done) : done(null)));
});

/** Lints `source` as if it were saved at `filePath`, with the workspace's own ESLint config. */
async function boundaryErrors(filePath: string, source: string): Promise<string[]> {
  const id = nextId++;
  const messages = await new Promise<LintMessage[]>((answer, fail) => {
    waiting.set(id, { answer, fail });
    linter.stdin.write(`${JSON.stringify({ id, filePath, source })}\n`);
  });
  return messages
    .filter((message) => message.ruleId === '@nx/enforce-module-boundaries')
    .map((message) => message.message);
}

describe('module boundaries (docs/architecture.md)', () => {
  it('refuses resource-service code that imports from auth-service', async () => {
    const errors = await boundaryErrors(
      'apps/resource-service/src/probe.ts',
      "import { User } from '../../auth-service/src/users/user.entity';\nexport const probe = User;\n",
    );
    expect(errors).toHaveLength(1);
  });

  it('refuses a shared library that imports from an app', async () => {
    const errors = await boundaryErrors(
      'libs/platform/src/probe.ts',
      "import { AppModule } from '../../../apps/auth-service/src/app.module';\nexport const probe = AppModule;\n",
    );
    expect(errors).toHaveLength(1);
  });

  it('lets a service import the shared platform and auth libraries', async () => {
    const errors = await boundaryErrors(
      'apps/resource-service/src/probe.ts',
      "import { ServiceCoreModule } from '@tessera/platform';\nimport { AuthModule } from '@tessera/auth-resource-server';\nexport const probe = [ServiceCoreModule, AuthModule];\n",
    );
    expect(errors).toEqual([]);
  });

  it('refuses a util library that imports a feature library (layers point down)', async () => {
    const errors = await boundaryErrors(
      'libs/auth/token/src/probe.ts',
      "import { AuthModule } from '@tessera/auth-resource-server';\nexport const probe = AuthModule;\n",
    );
    expect(errors).toHaveLength(1);
  });

  it('refuses a data-access library that imports a feature library', async () => {
    const errors = await boundaryErrors(
      'libs/auth/client/src/probe.ts',
      "import { AuthModule } from '@tessera/auth-resource-server';\nexport const probe = AuthModule;\n",
    );
    expect(errors).toHaveLength(1);
  });

  // type:tool (tools/workspace-plugin) is workspace tooling: nothing that ships may depend on it.
  it.each([
    ['an app', 'apps/resource-service/src/probe.ts'],
    ['a shared library', 'libs/auth/token/src/probe.ts'],
  ])('refuses %s that imports the workspace plugin', async (_what, filePath) => {
    const errors = await boundaryErrors(
      filePath,
      "import { serviceGenerator } from '@tessera/workspace-plugin';\nexport const probe = serviceGenerator;\n",
    );
    expect(errors).toHaveLength(1);
  });

  it('lets the workspace plugin use the shared test kits, and refuses it an app', async () => {
    expect(
      await boundaryErrors(
        'tools/workspace-plugin/src/probe.ts',
        "import { ServiceProcess } from '@tessera/platform-testing';\nexport const probe = ServiceProcess;\n",
      ),
    ).toEqual([]);
    expect(
      await boundaryErrors(
        'tools/workspace-plugin/src/probe.ts',
        "import { AppModule } from '../../../apps/auth-service/src/app.module';\nexport const probe = AppModule;\n",
      ),
    ).toHaveLength(1);
  });
});
