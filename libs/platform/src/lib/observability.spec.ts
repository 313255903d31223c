import {
  Body,
  Controller,
  Get,
  Logger,
  Module,
  Param,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fs from 'node:fs';
import { createServiceApplication } from './bootstrap/bootstrap-service';
import { HttpServiceEnvironment } from './config/service-environment';
import { Metrics } from './metrics/metrics';

@Controller('things')
class ThingsController {
  private readonly logger = new Logger(ThingsController.name);

  @Get(':id')
  find(@Param('id') id: string) {
    this.logger.log(`looking up thing ${id}`);
    return { id };
  }

  @Post()
  create(@Body() body: Record<string, unknown>) {
    // What careless code might do; the redaction must catch it.
    this.logger.warn({ msg: 'creating a thing', body });
    return { created: true };
  }
}

/** A live service whose database is down. */
@Controller('health')
class HealthController {
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  ready() {
    throw new ServiceUnavailableException('the database is down');
  }
}

@Module({ controllers: [ThingsController, HealthController] })
class ThingsModule {}

let app: NestFastifyApplication;
let url: string;
let output: string[];
let writeSpy: jest.SpyInstance;

beforeAll(async () => {
  const environment = Object.assign(new HttpServiceEnvironment(), {
    NODE_ENV: 'test' as const,
    LOG_LEVEL: 'info' as const,
  });
  app = await createServiceApplication(ThingsModule, environment);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

beforeEach(() => {
  output = [];
  // The logger writes to file descriptor 1 itself, synchronously (sonic-boom), not through
  // process.stdout: the lines written there are kept, anything else is written as usual.
  const writeSync = fs.writeSync.bind(fs) as (...args: unknown[]) => number;
  writeSpy = jest.spyOn(fs, 'writeSync').mockImplementation(((...args: unknown[]) => {
    const [fd, data] = args;
    if (fd !== 1) return writeSync(...args);
    output.push(String(data));
    return Buffer.byteLength(String(data));
  }) as typeof fs.writeSync);
});

afterEach(() => writeSpy.mockRestore());

afterAll(async () => {
  await app?.close();
});

/** The JSON lines written since the test began, once the request lines are out. */
async function lines(): Promise<Record<string, unknown>[]> {
  await new Promise((done) => setTimeout(done, 50));
  return output
    .join('')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the logs of a service application', () => {
  it('are JSON lines that carry the request id the response echoes', async () => {
    const response = await fetch(`${url}/things/42`, { headers: { 'x-request-id': 'req-42' } });
    expect(response.headers.get('x-request-id')).toBe('req-42');
    const logged = await lines();
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'info',
        reqId: 'req-42',
        context: 'ThingsController',
        msg: 'looking up thing 42',
      }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'info',
        reqId: 'req-42',
        msg: 'request completed',
        req: expect.objectContaining({ method: 'GET', url: '/things/42' }),
        route: '/things/:id',
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
    );
  });

  it('generate a request id when the caller sends none, or one that is not short and plain', async () => {
    for (const offered of [undefined, 'not plain!', 'x'.repeat(129)]) {
      const response = await fetch(`${url}/things/1`, {
        headers: offered === undefined ? {} : { 'x-request-id': offered },
      });
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(await lines()).toContainEqual(
        expect.objectContaining({ reqId: id, msg: 'request completed' }),
      );
      output.length = 0;
    }
  });

  it('never contain an Authorization header, a cookie, a token or a password (R27)', async () => {
    const secrets = {
      authorization: 'Bearer header-secret-0123456789',
      cookie: 'tessera_refresh=cookie-secret-0123456789',
      password: 'password-secret-0123456789',
      refresh_token: 'refresh-secret-0123456789',
      access_token: 'query-secret-0123456789',
    };
    await fetch(`${url}/things?access_token=${secrets.access_token}&limit=5`, {
      method: 'POST',
      headers: {
        authorization: secrets.authorization,
        cookie: secrets.cookie,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ password: secrets.password, refresh_token: secrets.refresh_token }),
    });
    const logged = await lines();
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'creating a thing',
        body: { password: '[Redacted]', refresh_token: '[Redacted]' },
      }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'request completed',
        req: expect.objectContaining({
          url: '/things?access_token&limit',
          headers: expect.objectContaining({ 'content-type': 'application/json' }),
        }),
      }),
    );
    const text = output.join('');
    for (const secret of Object.values(secrets)) {
      expect(text).not.toContain(secret.replace('Bearer ', ''));
    }
  });

  it('leave out the health probes that succeed, and keep those that fail', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/health/live?probe=1`)).status).toBe(200);
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
    expect((await fetch(`${url}/health/nothing`)).status).toBe(404);
    await fetch(`${url}/things/9`);
    const logged = (await lines()).filter((line) => line['req'] !== undefined);
    expect(
      logged.map((line) => [line['level'], line['msg'], (line['req'] as { url: string }).url]),
    ).toEqual([
      ['error', 'request errored', '/health/ready'],
      ['info', 'request completed', '/health/nothing'],
      ['info', 'request completed', '/things/9'],
    ]);
  });

  it('leave out lines below LOG_LEVEL', async () => {
    const quiet = await createServiceApplication(
      ThingsModule,
      Object.assign(new HttpServiceEnvironment(), {
        NODE_ENV: 'test' as const,
        LOG_LEVEL: 'warn' as const,
      }),
    );
    try {
      await quiet.listen({ port: 0, host: '127.0.0.1' });
      const address = quiet.getHttpServer().address();
      const port = typeof address === 'object' && address ? address.port : 0;
      await fetch(`http://127.0.0.1:${port}/things/7`);
      await fetch(`http://127.0.0.1:${port}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      // The lines logged in a request only: Nest's start-up lines of this second application
      // and of the first one interleave here.
      const logged = (await lines()).filter((line) => line['reqId'] !== undefined);
      expect(logged.map((line) => line['msg'])).toEqual(['creating a thing']);
      expect(logged[0]).toMatchObject({ level: 'warn', context: 'ThingsController' });
    } finally {
      await quiet.close();
    }
  });
});

describe('the metrics of a service application', () => {
  it('time every request by route pattern, method and status, never by URL', async () => {
    await fetch(`${url}/things/123`);
    await fetch(`${url}/things/456`);
    await fetch(`${url}/no/such/route/789`);
    const exposition = await app.get(Metrics).render();
    expect(exposition).toMatch(
      /^tessera_http_request_duration_seconds_count\{method="GET",route="\/things\/:id",status="200"\} \d+$/m,
    );
    expect(exposition).toMatch(
      /^tessera_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} \d+$/m,
    );
    for (const id of ['/things/123', '/things/456', '/no/such/route'])
      expect(exposition).not.toContain(id);
  });
});
