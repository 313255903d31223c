import { Writable } from 'node:stream';
import { createServiceLogger } from './service-logger';
import { serializeRequest, withoutQueryValues } from './log-redaction';

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
