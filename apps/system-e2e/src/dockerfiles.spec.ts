import { composeServiceEnvironment, readComposeFile } from '@tessera/platform/testing';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const compose = readComposeFile(resolve(root, 'docker-compose.yml'));
/** Services built from this repository, with the Dockerfile docker-compose.yml builds them from. */
const built = Object.entries(compose.services).flatMap(([name, definition]) => {
  const build = definition['build'] as { context?: string; dockerfile?: string } | undefined;
  if (!build) return [];
  const dockerfile = resolve(root, build.context ?? '.', build.dockerfile ?? 'Dockerfile');
  return [{ name, dockerfile, port: composeServiceEnvironment(compose, name)['PORT'] }];
});

interface Instruction {
  keyword: string;
  argument: string;
}

/** Instructions with continuation lines joined and comments left out. */
function instructions(path: string): Instruction[] {
  return readFileSync(path, 'utf8')
    .replace(/\\\r?\n(\s*#.*\r?\n)*/g, ' ')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.trim().split(/\s+/);
      return { keyword: keyword.toUpperCase(), argument: rest.join(' ') };
    });
}

/** The instructions of the last stage: what the image that runs is made of. */
function runtimeStage(all: Instruction[]): Instruction[] {
  const lastFrom = all.map((instruction) => instruction.keyword).lastIndexOf('FROM');
  return all.slice(lastFrom);
}

const argumentsOf = (stage: Instruction[], keyword: string) =>
  stage
    .filter((instruction) => instruction.keyword === keyword)
    .map((instruction) => instruction.argument);

describe('the Dockerfiles', () => {
  it('exist for at least the two services', () => {
    expect(built.map((service) => service.name)).toEqual(
      expect.arrayContaining(['auth-service', 'resource-service']),
    );
  });

  describe.each(built)('of $name', ({ name, dockerfile, port }) => {
    const all = instructions(dockerfile);
    const runtime = runtimeStage(all);

    it('build the service with Nx from the sources', () => {
      expect(argumentsOf(all, 'RUN').some((command) => command.includes(`nx build ${name}`))).toBe(
        true,
      );
    });

    it('run it from its bundle with production dependencies only, without the embedded PostgreSQL binaries', () => {
      expect(argumentsOf(runtime, 'ENV')).toContain('NODE_ENV=production');
      expect(
        argumentsOf(runtime, 'COPY').some((source) => source.includes(`dist/apps/${name}/`)),
      ).toBe(true);
      const installs = argumentsOf(runtime, 'RUN').filter((command) =>
        /npm (install|ci)\b/.test(command),
      );
      expect(installs).toHaveLength(1);
      expect(installs[0]).toContain('--omit=dev');
      expect(installs[0]).toContain('--omit=optional');
      expect(argumentsOf(runtime, 'CMD')).toEqual(['["node", "main.js"]']);
    });

    it('run it as the unprivileged node user', () => {
      expect(argumentsOf(runtime, 'USER').at(-1)).toBe('node');
    });

    it('expose and health-check the port docker-compose.yml gives it', () => {
      expect(argumentsOf(runtime, 'EXPOSE')).toEqual([port]);
      const [healthcheck] = argumentsOf(runtime, 'HEALTHCHECK');
      expect(healthcheck).toContain('/health/ready');
      expect(healthcheck).toContain(`process.env.PORT||${port}`);
    });
  });

  it('get a build context without node_modules, build output, local data or .env secrets', () => {
    const ignored = readFileSync(resolve(root, '.dockerignore'), 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim());
    expect(ignored).toEqual(
      expect.arrayContaining(['**/node_modules', 'dist', '.data', '.env', '.git']),
    );
  });
});
