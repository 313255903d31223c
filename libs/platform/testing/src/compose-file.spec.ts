import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  composeServiceEnvironment,
  composeServiceMounts,
  composeV2Problems,
  composeVariableReferences,
  ComposeVolumes,
  interpolateCompose,
  MissingComposeVariableError,
  readComposeFile,
  readEnvFileSections,
} from './compose-file';

let folder: string;
beforeAll(() => (folder = mkdtempSync(join(tmpdir(), 'compose-file-'))));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function fileWith(name: string, text: string): string {
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
}

describe('interpolateCompose', () => {
  it.each([
    ['${NAME}', { NAME: 'value' }, 'value'],
    ['$NAME/path', { NAME: 'value' }, 'value/path'],
    ['${NAME}', {}, ''],
    ['${NAME:-fallback}', {}, 'fallback'],
    ['${NAME:-fallback}', { NAME: '' }, 'fallback'],
    ['${NAME:-fallback}', { NAME: 'value' }, 'value'],
    ['${NAME-fallback}', {}, 'fallback'],
    ['${NAME-fallback}', { NAME: '' }, ''],
    ['${NAME:?message}', { NAME: 'value' }, 'value'],
    ['${NAME?message}', { NAME: '' }, ''],
    ['${NAME:+replacement}', { NAME: 'value' }, 'replacement'],
    ['${NAME:+replacement}', { NAME: '' }, ''],
    ['${NAME+replacement}', { NAME: '' }, 'replacement'],
    ['${NAME+replacement}', {}, ''],
    ['$$NAME and $${NAME}', { NAME: 'value' }, '$NAME and ${NAME}'],
    ['${OUTER:-${INNER:-deep}}', {}, 'deep'],
    ['${OUTER:-a ${INNER} b}', { INNER: 'middle' }, 'a middle b'],
    [
      'postgres://${USER:-tessera}:${PASSWORD}@postgres:5432/auth',
      { PASSWORD: 'pw' },
      'postgres://tessera:pw@postgres:5432/auth',
    ],
  ])('turns %s with %j into %j', (text, variables, expected) => {
    expect(interpolateCompose(text, variables)).toBe(expected);
  });

  it.each([
    [
      '${NAME:?set NAME in .env}',
      {},
      'required variable NAME is missing a value: set NAME in .env',
    ],
    [
      '${NAME:?set NAME in .env}',
      { NAME: '' },
      'required variable NAME is missing a value: set NAME in .env',
    ],
    ['${NAME?}', {}, 'required variable NAME is missing a value'],
  ])(
    'refuses %s with %j, naming the variable and quoting the message',
    (text, variables, message) => {
      expect(() => interpolateCompose(text, variables)).toThrow(MissingComposeVariableError);
      expect(() => interpolateCompose(text, variables)).toThrow(message);
    },
  );

  it('interpolates a default only when it is used, as docker-compose does', () => {
    expect(interpolateCompose('${SET:-${MISSING:?never asked}}', { SET: 'value' })).toBe('value');
  });

  it.each([['${NAME'], ['cost: 5$'], ['${1NAME}'], ['${NAME:x}']])(
    'rejects the malformed %s',
    (text) => {
      expect(() => interpolateCompose(text, {})).toThrow(/interpolation|Unclosed/);
    },
  );
});

describe('composeVariableReferences', () => {
  it('finds every variable in a tree of values, those inside defaults too, and skips $$', () => {
    const references = composeVariableReferences({
      environment: { URL: 'postgres://${USER:-${FALLBACK_USER}}:${PASSWORD:?required}@db/x' },
      healthcheck: ['CMD', 'pg_isready -U $${POSTGRES_USER}', 3],
      plain: '$HOME',
    });
    expect(references).toEqual([
      { name: 'USER', operator: ':-', argument: '${FALLBACK_USER}' },
      { name: 'FALLBACK_USER', operator: undefined, argument: '' },
      { name: 'PASSWORD', operator: ':?', argument: 'required' },
      { name: 'HOME', argument: '' },
    ]);
  });
});

describe('readComposeFile', () => {
  const text = [
    'x-common: &common',
    '  LOG_LEVEL: ${LOG_LEVEL:-info}',
    'services:',
    '  api:',
    '    environment:',
    '      <<: *common',
    '      PASSWORD: ${PASSWORD:?set PASSWORD}',
    '    # a comment with ${UNSET:?} is not a value, so it is never interpolated',
    '    healthcheck:',
    '      test: ["CMD-SHELL", "check $${HOME}"]',
    '      retries: 3',
  ].join('\n');

  it('leaves values as written when given no variables', () => {
    const compose = readComposeFile(fileWith('raw.yml', text));
    expect(compose.services['api'].environment).toEqual({
      LOG_LEVEL: '${LOG_LEVEL:-info}',
      PASSWORD: '${PASSWORD:?set PASSWORD}',
    });
  });

  it('interpolates every string value, resolves merge keys and keeps other scalars', () => {
    const compose = readComposeFile(fileWith('interpolated.yml', text), { PASSWORD: 'secret' });
    expect(compose.services['api']).toEqual({
      environment: { LOG_LEVEL: 'info', PASSWORD: 'secret' },
      healthcheck: { test: ['CMD-SHELL', 'check ${HOME}'], retries: 3 },
    });
  });

  it('fails with the compose message when a required variable is missing', () => {
    expect(() => readComposeFile(fileWith('required.yml', text), {})).toThrow(
      'required variable PASSWORD is missing a value: set PASSWORD',
    );
  });

  it('refuses a file without a services map', () => {
    const path = fileWith('no-services.yml', 'volumes:\n  data: {}\n');
    expect(() => readComposeFile(path)).toThrow(`${path} has no \`services:\` map`);
  });
});

describe('composeServiceEnvironment', () => {
  it('reads the map form, turning numbers and booleans into strings and a bare key into undefined', () => {
    const path = fileWith(
      'map.yml',
      'services:\n  api:\n    environment:\n      PORT: 3001\n      DEBUG: false\n      FROM_SHELL:\n',
    );
    expect(composeServiceEnvironment(readComposeFile(path), 'api')).toEqual({
      PORT: '3001',
      DEBUG: 'false',
      FROM_SHELL: undefined,
    });
  });

  it('reads the list form, splitting at the first = only', () => {
    const path = fileWith(
      'list.yml',
      'services:\n  api:\n    environment:\n      - URL=postgres://a@b/c?x=1\n      - EMPTY=\n      - FROM_SHELL\n',
    );
    expect(composeServiceEnvironment(readComposeFile(path), 'api')).toEqual({
      URL: 'postgres://a@b/c?x=1',
      EMPTY: '',
      FROM_SHELL: undefined,
    });
  });

  it('gives an empty environment to a service that declares none', () => {
    const path = fileWith('none.yml', 'services:\n  api:\n    image: node\n');
    expect(composeServiceEnvironment(readComposeFile(path), 'api')).toEqual({});
  });

  it('refuses a variable listed twice', () => {
    const path = fileWith(
      'twice.yml',
      'services:\n  api:\n    environment:\n      - PORT=1\n      - PORT=2\n',
    );
    expect(() => composeServiceEnvironment(readComposeFile(path), 'api')).toThrow(
      'service "api" lists PORT twice',
    );
  });

  it('names the services there are when asked for one that is not there', () => {
    const path = fileWith('other.yml', 'services:\n  api: {}\n  db: {}\n');
    expect(() => composeServiceEnvironment(readComposeFile(path), 'web')).toThrow(
      'docker-compose has no service "web"; it has api, db',
    );
  });
});

describe('readEnvFileSections', () => {
  it('groups set and commented-out variables under the heading above them', () => {
    const path = fileWith(
      'sections.env',
      [
        '# Read by everything.',
        'SHARED=1',
        '',
        '# auth-service',
        '# Port to listen on.',
        '# PORT=3001',
        '# Unset by default.',
        '# DATABASE_URL=',
        '',
        '# docker-compose',
        'POSTGRES_PASSWORD= value with spaces ',
      ].join('\n'),
    );
    expect(readEnvFileSections(path)).toEqual({
      '': { SHARED: '1' },
      'auth-service': { PORT: '3001', DATABASE_URL: '' },
      'docker-compose': { POSTGRES_PASSWORD: 'value with spaces' },
    });
  });

  it('refuses a variable listed twice in one section, naming the line', () => {
    const path = fileWith('twice.env', '# auth-service\nPORT=1\n# PORT=2\n');
    expect(() => readEnvFileSections(path)).toThrow(`${path}:3 lists PORT twice in one section`);
  });
});

describe('composeServiceMounts and ComposeVolumes', () => {
  const compose = () =>
    readComposeFile(
      fileWith(
        'volumes.yml',
        [
          'services:',
          '  writer:',
          '    image: node',
          "    command: ['node', '/opt/script.mjs', '/data/out']",
          '    environment:',
          '      TARGET: /data/out',
          '    volumes:',
          '      - ./script.mjs:/opt/script.mjs:ro',
          '      - shared:/data',
          '  reader:',
          '    image: node',
          '    volumes:',
          '      - type: volume',
          '        source: shared',
          '        target: /run/shared',
          '        read_only: true',
          'volumes:',
          '  shared:',
        ].join('\n'),
      ),
    );

  it('reads bind mounts (against the compose folder) and named volumes, in both forms', () => {
    expect(composeServiceMounts(compose(), 'writer', folder)).toEqual([
      { source: join(folder, 'script.mjs'), target: '/opt/script.mjs', bind: true, readOnly: true },
      { source: 'shared', target: '/data', bind: false, readOnly: false },
    ]);
    expect(composeServiceMounts(compose(), 'reader', folder)).toEqual([
      { source: 'shared', target: '/run/shared', bind: false, readOnly: true },
    ]);
  });

  it('maps container paths to the repository or to one folder per named volume, shared by its services', () => {
    const volumes = new ComposeVolumes(compose(), folder, join(folder, 'volumes'));
    expect(volumes.hostPath('writer', '/opt/script.mjs')).toBe(join(folder, 'script.mjs'));
    expect(volumes.hostPath('writer', '/data/out')).toBe(join(folder, 'volumes/shared/out'));
    expect(volumes.hostPath('reader', '/run/shared/out')).toBe(join(folder, 'volumes/shared/out'));
    expect(volumes.hostPath('reader', '/elsewhere')).toBeUndefined();
    expect(volumes.onHost('reader', { FILE: '/run/shared/out', OTHER: 'value' })).toEqual({
      FILE: join(folder, 'volumes/shared/out'),
      OTHER: 'value',
    });
  });

  it('runs a one-shot `node <script>` service with its environment and mounts mapped here', () => {
    fileWith(
      'script.mjs',
      "import { writeFileSync } from 'node:fs';\n" +
        "writeFileSync(process.argv[2], process.env.TARGET + ' ' + Object.keys(process.env).length);\n",
    );
    const volumes = new ComposeVolumes(compose(), folder, join(folder, 'run-volumes'));
    volumes.runNodeService('writer', { TARGET: '/data/out' });
    const out = join(folder, 'run-volumes/shared/out');
    expect(existsSync(out)).toBe(true);
    // Only the environment given: what compose gives the container.
    expect(readFileSync(out, 'utf8')).toBe(`${out} 1`);
    expect(() => volumes.runNodeService('reader', {})).toThrow('does not run `node <script>`');
  });
});

describe('composeV2Problems', () => {
  const valid = [
    'services:',
    '  db:',
    '    image: postgres',
    '    volumes:',
    '      - data:/var/lib/postgresql',
    '    healthcheck:',
    "      test: ['CMD-SHELL', 'pg_isready']",
    '      interval: 5s',
    '      start_period: 1m30s',
    '  app:',
    '    build: .',
    '    env_file:',
    '      - path: ./absent.env',
    '        required: false',
    '    depends_on:',
    '      db:',
    '        condition: service_healthy',
    '    stop_grace_period: 15s',
    'volumes:',
    '  data:',
  ];
  /** The valid file with `from` replaced by `to` (one line by another, or a line added after it). */
  const problems = (from?: string, to?: string[]) => {
    const lines = [...valid];
    if (from !== undefined) lines.splice(lines.indexOf(from), 1, ...(to ?? []));
    return composeV2Problems(readComposeFile(fileWith('v2.yml', lines.join('\n')), {}), folder);
  };

  it('finds none in a file that keeps the rules', () => {
    expect(problems()).toEqual([]);
  });

  it.each([
    ['    build: .', [], 'services.app: neither an image nor a build context'],
    ['      db:', ['      cache:'], 'services.app: depends on undefined service cache'],
    ['  data:', ['  other:'], 'services.db: refers to undefined volume data'],
    [
      '      - data:/var/lib/postgresql',
      ['      - data:/var/lib/postgresql', '      - ./init:/var/lib/postgresql'],
      'services.db: /var/lib/postgresql is mounted twice',
    ],
    [
      "      test: ['CMD-SHELL', 'pg_isready']",
      ["      test: ['pg_isready']"],
      'services.db.healthcheck.test must start with "CMD", "CMD-SHELL" or "NONE"',
    ],
    [
      '      interval: 5s',
      ['      interval: 5 seconds'],
      'services.db.healthcheck.interval: 5 seconds is not a duration (e.g. 10s, 1m30s)',
    ],
    [
      '    stop_grace_period: 15s',
      ['    stop_grace_period: 15'],
      'services.app.stop_grace_period: 15 is not a duration (e.g. 10s, 1m30s)',
    ],
    [
      '        required: false',
      [],
      'services.app: env_file ./absent.env does not exist (required: false allows that)',
    ],
    [
      '    image: postgres',
      ['    image: postgres', '    secrets: [password]'],
      'services.db: refers to undefined secrets password',
    ],
    [
      '    image: postgres',
      ['    image: postgres', '    networks: [backend]'],
      'services.db: refers to undefined network backend',
    ],
    [
      '    image: postgres',
      ['    image: postgres', '    depends_on: [app]'],
      'dependency cycle: db -> app -> db',
    ],
  ])('refuses, as compose-go does, the file with %j replaced by %j', (from, to, problem) => {
    expect(problems(from, to)).toEqual([problem]);
  });
});
