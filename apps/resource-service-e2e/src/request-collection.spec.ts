import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { documentedRoutes, readmeRoutes } from './support/readme-endpoints';
import { startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem } from './support/tessera-system';

/**
 * What a newcomer clicks through and reads, run against both built services on real PostgreSQL
 * so that neither can rot: the request collection in http/ (every request of every file, with
 * httpyac's command-line runner, each request's tests passing), and the README's endpoint tables
 * (each service's table lists exactly the routes its OpenAPI document has, and the API docs suite
 * proves that document lists exactly the routes the service serves).
 */

const root = resolve(__dirname, '../../..');
const collection = join(root, 'http');
const httpyac = join(root, 'node_modules/httpyac/bin/httpyac.js');

interface HttpyacReport {
  requests: Array<{
    fileName: string;
    title?: string;
    name: string;
    response?: { statusCode: number; body?: unknown };
    summary: { totalTests: number; failedTests: number; erroredTests: number };
    testResults?: Array<{ message: string; status: string; error?: { message?: string } }>;
  }>;
}

let system: TesseraSystem;

beforeAll(async () => {
  system = await startTesseraSystem({ authPort: 13081, resourcePort: 13082, name: 'collection' });
});

afterAll(async () => {
  expect(await system?.stop()).toEqual([0, 0]);
});

describe('the request collection in http/', () => {
  const files = readdirSync(collection)
    .filter((file) => file.endsWith('.http'))
    .sort();

  it('has a file for each flow', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  // Every request that each file holds, in order.
  const written = () =>
    files.flatMap((file) =>
      [...readFileSync(join(collection, file), 'utf8').matchAll(/^###[ \t]*(.*)$/gm)].map(
        ([, title]) => ({ file, request: title?.trim() }),
      ),
    );

  /** Sends every request of every file, as `httpyac send --all` does; what each one's tests said. */
  const sendCollection = async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        httpyac,
        'send',
        ...files.map((file) => join(collection, file)),
        '--all',
        '--env',
        'local',
        '--var',
        `auth=${system.issuer}`,
        `resource=${system.resourceUrl}`,
        `clientSecret=${system.clientSecret}`,
        '--json',
        // The report then holds each response's status and body, shown for a failed request.
        '--output',
        'body',
        '--timeout',
        '10000',
      ],
      { cwd: root, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      // httpyac exits non-zero when a test fails; the report says which.
    ).catch((error: { stdout?: string; stderr?: string }) => {
      if (!error.stdout?.trim().startsWith('{')) throw error;
      return { stdout: error.stdout };
    });
    return (JSON.parse(stdout) as HttpyacReport).requests.map((request) => ({
      file: request.fileName.slice(collection.length + 1),
      request: request.title ?? request.name,
      tests: request.summary.totalTests > 0,
      failed: (request.testResults ?? [])
        .filter((test) => test.status !== 'SUCCESS')
        .map((test) => `${test.message}: ${test.error?.message ?? test.status}`),
      ...(request.summary.failedTests + request.summary.erroredTests > 0 && {
        status: request.response?.statusCode,
        body: request.response?.body,
      }),
    }));
  };

  // The second run is a person clicking through again: the account exists, sessions are left.
  it.each(['on a fresh system', 'again, on the data the first run left'])(
    'sends every request of every file, each with tests that pass, %s',
    async () => {
      const sent = await sendCollection();
      expect(sent.map(({ file, request }) => ({ file, request }))).toEqual(written());
      expect(sent.filter((request) => !request.tests || request.failed.length > 0)).toEqual([]);
    },
  );
});

describe("the README's endpoint tables", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  it.each(['auth-service', 'resource-service'])(
    "list exactly the routes %s's OpenAPI document has",
    async (service) => {
      const url = service === 'auth-service' ? system.issuer : system.resourceUrl;
      const response = await fetch(`${url}/docs-json`);
      expect(response.status).toBe(200);
      const served = documentedRoutes((await response.json()) as { paths: Record<string, object> });
      const listed = readmeRoutes(readme, service);
      expect({
        servedButNotInTheReadme: served.filter((route) => !listed.includes(route)),
        inTheReadmeButNotServed: listed.filter((route) => !served.includes(route)),
      }).toEqual({ servedButNotInTheReadme: [], inTheReadmeButNotServed: [] });
    },
  );
});
