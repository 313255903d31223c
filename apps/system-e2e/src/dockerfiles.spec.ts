import { composeServiceEnvironment, readComposeFile } from '@tessera/platform-testing';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const compose = readComposeFile(resolve(root, 'docker-compose.yml'));
/** The Node.js release CI installs when the machine's is older (.ci/run's NODE_VERSION). */
const nodeVersion = /^NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(
  readFileSync(resolve(root, '.ci/run'), 'utf8'),
)?.[1];
const nodeImage = `node:${nodeVersion}-bookworm-slim`;
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

describe('Node.js 24 LTS', () => {
  it('is what package.json, .nvmrc and CI ask for, CI pinning one release', () => {
    const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
    expect(manifest.engines.node).toBe('>=24');
    expect(readFileSync(resolve(root, '.nvmrc'), 'utf8').trim()).toBe('24');
    expect(nodeVersion).toMatch(/^24\.\d+\.\d+$/);
  });

  it('runs these tests', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it("is the image of docker-compose.yml's secrets service, the one the services build on", () => {
    expect(compose.services['secrets']?.['image']).toBe(nodeImage);
  });
});

describe('the lock file', () => {
  it("records exactly package.json's dependencies, so that installs take its versions", () => {
    // The images install with `npm install` (npm ci refuses this lock file, see the Dockerfiles),
    // which follows the lock file only while it agrees with package.json; npm ci would check this.
    const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8'));
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
      expect({ field, locked: lock.packages[''][field] ?? {} }).toEqual({
        field,
        locked: manifest[field] ?? {},
      });
    }
    const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    expect(names.filter((name) => !lock.packages[`node_modules/${name}`])).toEqual([]);
  });
});

describe('the Dockerfiles', () => {
  it('exist for at least the two services', () => {
    expect(built.map((service) => service.name)).toEqual(
      expect.arrayContaining(['auth-service', 'resource-service']),
    );
  });

  describe.each(built)('of $name', ({ name, dockerfile, port }) => {
    const all = instructions(dockerfile);
    const runtime = runtimeStage(all);

    it('build and run on the Node.js release CI runs, pinned, in every stage', () => {
      const images = argumentsOf(all, 'FROM').map((argument) => argument.split(/\s+/)[0]);
      expect(images.length).toBeGreaterThanOrEqual(2);
      expect(new Set(images)).toEqual(new Set([nodeImage]));
    });

    it("install the lock file's versions: each install comes after its lock file", () => {
      const copied = (stage: Instruction[], file: string) =>
        stage.findIndex(
          (instruction) => instruction.keyword === 'COPY' && instruction.argument.includes(file),
        );
      const install = (stage: Instruction[]) =>
        stage.findIndex(
          (instruction) =>
            instruction.keyword === 'RUN' && /npm (install|ci)\b/.test(instruction.argument),
        );
      const build = all.slice(0, all.length - runtime.length);
      for (const stage of [build, runtime]) {
        expect(copied(stage, 'package-lock.json')).toBeGreaterThanOrEqual(0);
        expect(copied(stage, 'package-lock.json')).toBeLessThan(install(stage));
      }
    });

    it("give the bundle's package.json the workspace's npm overrides, so that npm resolves it", () => {
      const manifest = `dist/apps/${name}/package.json`;
      expect(argumentsOf(all, 'RUN')).toContain(
        `node tools/scripts/bundle-overrides.mjs ${manifest}`,
      );
      // The runtime stage's install, on the built bundle (system-e2e builds every service first):
      // npm stops with ERESOLVE without the overrides.
      const folder = mkdtempSync(join(tmpdir(), `tessera-bundle-${name}-`));
      try {
        for (const file of ['package.json', 'package-lock.json']) {
          copyFileSync(resolve(root, `dist/apps/${name}`, file), join(folder, file));
        }
        const script = spawnSync(
          process.execPath,
          [resolve(root, 'tools/scripts/bundle-overrides.mjs'), join(folder, 'package.json')],
          { encoding: 'utf8' },
        );
        expect(script.status).toBe(0);
        const npm = spawnSync(
          'npm',
          [
            'install',
            '--package-lock-only',
            '--omit=dev',
            '--omit=optional',
            '--ignore-scripts',
            '--no-audit',
            '--no-fund',
            '--prefer-offline',
          ],
          // Without the test runner's preloads, as in the image.
          {
            cwd: folder,
            encoding: 'utf8',
            timeout: 120_000,
            env: { ...process.env, NODE_OPTIONS: '' },
          },
        );
        expect({ status: npm.status, stderr: npm.stderr.slice(-2000) }).toEqual({
          status: 0,
          stderr: expect.any(String),
        });
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });

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
