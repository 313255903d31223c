import fs, { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServiceLogger, prettyTransportSource } from './service-logger';
import {
  REDACTED_LOG_PATHS,
  redactSecrets,
  serializeRequest,
  withoutQueryValues,
} from './log-redaction';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe('createServiceLogger', () => {
  it('writes JSON lines at LOG_LEVEL and above, with the level by name', () => {
    const { lines, destination } = capture();
    const logger = createServiceLogger({ LOG_LEVEL: 'warn', NODE_ENV: 'production' }, destination);
    logger.info('not this one');
    logger.warn('this one');
    logger.error('and this one');
    expect(lines.map((line) => [line['level'], line['msg']])).toEqual([
      ['warn', 'this one'],
      ['error', 'and this one'],
    ]);
    expect(new Date(lines[0]?.['time'] as string).getTime()).not.toBeNaN();
  });

  it.each([['fatal'], ['error'], ['warn'], ['info'], ['debug'], ['trace']] as const)(
    'takes LOG_LEVEL=%s as the least severe level to write',
    (level) => {
      const { destination } = capture();
      expect(createServiceLogger({ LOG_LEVEL: level, NODE_ENV: 'test' }, destination).level).toBe(
        level,
      );
    },
  );

  it('writes a finished request on one line in development, leaves out the route list, and keeps other lines whole', () => {
    const written: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const logger = createServiceLogger({ LOG_LEVEL: 'info', NODE_ENV: 'development' }, destination);
    logger.info(
      {
        reqId: 'abc-123',
        req: { method: 'GET', url: '/notes', headers: { host: 'x' }, remoteAddress: '127.0.0.1' },
        route: '/notes',
        res: { statusCode: 200 },
        responseTime: 3.2,
      },
      'request completed',
    );
    logger.info({ context: 'RouterExplorer' }, 'Mapped {/notes, GET} route');
    logger.warn({ detail: 'kept' }, 'something else');
    expect(written).toHaveLength(2);
    const [request, other] = written;
    expect(request?.trimEnd().split('\n')).toHaveLength(1);
    expect(request).toContain('GET /notes 200 in 3.2 ms  abc-123');
    expect(request).not.toContain('remoteAddress');
    expect(other).toContain('something else');
    expect(other).toContain('kept');
  });

  it('keeps the request line whole in production JSON', () => {
    const { lines, destination } = capture();
    const logger = createServiceLogger({ LOG_LEVEL: 'info', NODE_ENV: 'production' }, destination);
    logger.info(
      { reqId: 'r', req: { method: 'GET', url: '/' }, res: { statusCode: 200 }, responseTime: 1 },
      'request completed',
    );
    expect(lines[0]).toMatchObject({ reqId: 'r', res: { statusCode: 200 }, responseTime: 1 });
  });

  it('redacts credentials in whatever object it is given, a level deep', () => {
    const { lines, destination } = capture();
    const logger = createServiceLogger({ LOG_LEVEL: 'info', NODE_ENV: 'production' }, destination);
    logger.info(
      {
        password: 'p4ssword',
        body: { refresh_token: 'r', client_secret: 's', new_password: 'n', title: 'kept' },
        req: { headers: { authorization: 'Bearer t', cookie: 'c=1', host: 'kept' } },
        res: { headers: { 'set-cookie': 'tessera_refresh=x' } },
      },
      'careless',
    );
    expect(lines[0]).toMatchObject({
      password: '[Redacted]',
      body: {
        refresh_token: '[Redacted]',
        client_secret: '[Redacted]',
        new_password: '[Redacted]',
        title: 'kept',
      },
      req: { headers: { authorization: '[Redacted]', cookie: '[Redacted]', host: 'kept' } },
      res: { headers: { 'set-cookie': '[Redacted]' } },
    });
  });
  it('redacts the bindings of a child and objects interpolated into the message', () => {
    const { lines, destination } = capture();
    const logger = createServiceLogger({ LOG_LEVEL: 'info', NODE_ENV: 'production' }, destination);
    logger
      .child({ reqId: 'r1' })
      .child({ token: 't0ken', scope: { client_secret: 's3cret' } })
      .info('bound');
    logger.info('interpolated %j and %o', { password: 'p4ss' }, { body: { id_token: 'i' } });
    const text = JSON.stringify(lines);
    for (const secret of ['t0ken', 's3cret', 'p4ss', '"i"']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      reqId: 'r1',
      token: '[Redacted]',
      scope: { client_secret: '[Redacted]' },
    });
    expect(lines[1]?.['msg']).toContain('"password":"[Redacted]"');
  });

  it('keeps an error whole when it redacts a field of it', () => {
    const { lines, destination } = capture();
    const logger = createServiceLogger({ LOG_LEVEL: 'info', NODE_ENV: 'production' }, destination);
    const error = Object.assign(new Error('refused'), { token: 'eyJhbGciOi' });
    logger.error({ err: error }, 'failed');
    expect(lines[0]).toMatchObject({
      err: { type: 'Error', message: 'refused', token: '[Redacted]' },
    });
    expect(String((lines[0]?.['err'] as { stack: string }).stack)).toContain('Error: refused');
    expect(error.token).toBe('eyJhbGciOi');
  });
});

describe('the production stdout writer', () => {
  // The writer is one per process: each test gathers what the one before it left, if anything.
  function spyOnStdout() {
    const written: string[] = [];
    const write = jest.spyOn(fs, 'writeSync').mockImplementation((fd, data) => {
      if (fd !== 1) throw new Error(`unexpected write to ${String(fd)}`);
      written.push(String(data));
      return Buffer.byteLength(String(data));
    });
    const fsync = jest.spyOn(fs, 'fsyncSync');
    return {
      written,
      fsync,
      restore: () => {
        write.mockRestore();
        fsync.mockRestore();
      },
    };
  }
  const messages = (write: string) =>
    write
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).msg as string);

  it('writes the lines of one turn of the event loop in one write, at the end of that turn, and never fsyncs', async () => {
    const stdout = spyOnStdout();
    const exitListeners = new Set(process.listeners('exit'));
    try {
      const logger = createServiceLogger({ LOG_LEVEL: 'info', NODE_ENV: 'production' });
      const [atExit] = process.listeners('exit').filter((listener) => !exitListeners.has(listener));
      logger.info('first');
      logger.warn('second');
      logger.info('third');
      expect(stdout.written).toEqual([]);
      await new Promise((turnEnded) => setImmediate(turnEnded));
      expect(stdout.written).toHaveLength(1);
      expect(messages(stdout.written[0])).toEqual(['first', 'second', 'third']);
      // At an exit, what a turn has gathered is written at once.
      logger.info('last words');
      atExit(0);
      expect(stdout.written).toHaveLength(2);
      expect(messages(stdout.written[1])).toEqual(['last words']);
      // A log line is not worth a flush to disk (stdout may be a file), nor a failed fsync on a pipe.
      expect(stdout.fsync).not.toHaveBeenCalled();
    } finally {
      stdout.restore();
    }
  });

  it('writes as soon as 8 KiB have gathered, within the turn, and keeps the order', async () => {
    const stdout = spyOnStdout();
    try {
      const logger = createServiceLogger({ LOG_LEVEL: 'info', NODE_ENV: 'production' });
      const lines = Array.from({ length: 100 }, (_, index) => `line ${index} ${'x'.repeat(200)}`);
      for (const line of lines) logger.info(line);
      expect(stdout.written.length).toBeGreaterThanOrEqual(2);
      await new Promise((turnEnded) => setImmediate(turnEnded));
      expect(stdout.written.flatMap(messages)).toEqual(lines);
      expect(stdout.fsync).not.toHaveBeenCalled();
    } finally {
      stdout.restore();
    }
  });
});

describe('redactSecrets', () => {
  it('copies what holds a secret, shares the rest, and never changes what it is given', () => {
    const harmless = { method: 'GET', headers: { host: 'x' } };
    const logged = {
      req: { method: 'GET', headers: { host: 'x', authorization: 'Bearer t', cookie: 'c' } },
      res: { headers: { 'set-cookie': 'tessera_refresh=x' } },
      other: harmless,
      refresh_token: 'r',
    };
    const before = JSON.stringify(logged);
    const redacted = redactSecrets(logged);
    expect(JSON.stringify(logged)).toBe(before);
    expect(redacted).toEqual({
      req: {
        method: 'GET',
        headers: { host: 'x', authorization: '[Redacted]', cookie: '[Redacted]' },
      },
      res: { headers: { 'set-cookie': '[Redacted]' } },
      other: harmless,
      refresh_token: '[Redacted]',
    });
    expect(redacted.other).toBe(harmless);
    expect(redactSecrets(harmless)).toBe(harmless);
    expect(redactSecrets('text')).toBe('text');
    // Two levels down is not looked at, as with pino's `*.field` paths.
    expect(redactSecrets({ a: { b: { password: 'p' } } })).toEqual({ a: { b: { password: 'p' } } });
  });
  it.each(REDACTED_LOG_PATHS.map((path) => [path]))('redacts %s', (path) => {
    const keys = [...path.matchAll(/[^.[\]"]+/g)].map(([key]) => (key === '*' ? 'any' : key));
    const logged: Record<string, unknown> = {};
    let at = logged;
    for (const key of keys.slice(0, -1)) at = (at[key] = {}) as Record<string, unknown>;
    at[keys.at(-1) as string] = 'secret';
    expect(JSON.stringify(redactSecrets(logged))).toBe(
      JSON.stringify(logged).replace('"secret"', '"[Redacted]"'),
    );
  });
});

describe('the development transport', () => {
  it('folds a request into one line, drops the route list and pretty-prints the rest, in its own module', () => {
    const folder = mkdtempSync(join(tmpdir(), 'pretty-transport-spec-'));
    try {
      const module = join(folder, 'pretty-transport.cjs');
      writeFileSync(module, prettyTransportSource());
      const output = join(folder, 'out.log');
      const fd = openSync(output, 'w');
      const build = require(module) as (options: object) => Writable;
      const stream = build({ prettyPath: require.resolve('pino-pretty'), colorize: false, fd });
      const request = JSON.stringify({
        level: 'info',
        time: 1,
        reqId: 'abc-123',
        req: { method: 'GET', url: '/notes', remoteAddress: '127.0.0.1' },
        res: { statusCode: 200 },
        responseTime: 3.2,
        msg: 'request completed',
      });
      const routes = JSON.stringify({ level: 'info', context: 'RouterExplorer', msg: 'Mapped' });
      const other = JSON.stringify({ level: 'warn', detail: 'kept', msg: 'something else' });
      // Lines may arrive split across chunks.
      stream.write(`${request}\n${routes}\n${other.slice(0, 10)}`);
      stream.write(`${other.slice(10)}\n`);
      closeSync(fd);
      const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
      expect(lines[0]).toContain('GET /notes 200 in 3.2 ms  abc-123');
      expect(lines.join('\n')).not.toContain('remoteAddress');
      expect(lines.join('\n')).not.toContain('Mapped');
      expect(lines[1]).toContain('something else');
      expect(lines.join('\n')).toContain('kept');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('serializeRequest', () => {
  it('keeps the method, the path, harmless headers and the address, and nothing else', () => {
    expect(
      serializeRequest({
        id: 'r1',
        method: 'POST',
        url: '/auth/refresh?x=1',
        headers: {
          host: 'auth.example.com',
          'user-agent': 'curl/8',
          authorization: 'Bearer t',
          cookie: 'tessera_refresh=x',
          'x-tessera-csrf': 'c',
          'x-api-key': 'k',
        },
        remoteAddress: '127.0.0.1',
      }),
    ).toEqual({
      id: 'r1',
      method: 'POST',
      url: '/auth/refresh?x',
      headers: { host: 'auth.example.com', 'user-agent': 'curl/8' },
      remoteAddress: '127.0.0.1',
    });
  });
});

describe('withoutQueryValues', () => {
  it.each([
    ['/notes', '/notes'],
    ['/notes?', '/notes?'],
    ['/notes?limit=5&access_token=abc', '/notes?limit&access_token'],
    ['/notes?flag&%61ccess_token=abc', '/notes?flag&access_token'],
    ['/notes?%E0%A4%A=1', '/notes?%25E0%25A4%25A'],
  ])('logs %s as %s', (url, logged) => {
    expect(withoutQueryValues(url)).toBe(logged);
  });
});
