import { BadRequestException, Body, Controller, Get, Module, Post } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { IsString, MaxLength } from 'class-validator';
import { DataSource } from 'typeorm';
import { createTestApplication } from './test-application';
import type { TestApplication } from './test-application';
import { HttpServiceEnvironment, ServiceEnvironment } from '@tessera/platform';
import { validateEnvironment } from '@tessera/platform';
import type { ErrorBody } from '@tessera/platform';
import { ServiceCoreModule } from '@tessera/platform';

class EchoDto {
  @IsString()
  @MaxLength(20)
  text!: string;
}

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }

  @Get('coded')
  coded(): never {
    throw new BadRequestException({
      error: 'invalid_grant',
      message: 'The refresh token is invalid',
    });
  }

  @Get('boom')
  boom(): never {
    throw new Error('database password is hunter2');
  }
}

const exampleConfig = registerAs('example', () =>
  validateEnvironment(ServiceEnvironment, process.env),
);

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      config: exampleConfig,
      database: { name: 'example', dataFolder: 'example', entities: [], migrations: [] },
    }),
  ],
  controllers: [EchoController],
})
class ExampleModule {}

const errorOf = async (response: Response) => (await response.json()) as ErrorBody;

const errorShape = {
  statusCode: expect.any(Number),
  error: expect.any(String),
  message: expect.any(String),
  requestId: expect.any(String),
};

describe('ServiceCoreModule over real HTTP and PostgreSQL', () => {
  let service: TestApplication;

  beforeAll(async () => {
    service = await createTestApplication(ExampleModule, exampleConfig, { BODY_LIMIT: '2048' });
  });
  afterAll(() => service.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${service.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('answers /health/live and /health/ready with 200 when the database is up', async () => {
    const live = await fetch(`${service.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' } },
    });
  });

  it('answers an unknown route with 404 in the house error shape', async () => {
    const response = await fetch(`${service.url}/no/such/route`);
    expect(response.status).toBe(404);
    const body = await errorOf(response);
    expect(body).toEqual({ ...errorShape, statusCode: 404, error: 'Not Found' });
    expect(body.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('answers malformed JSON with 400 in the house error shape, never 500', async () => {
    const response = await post('{"text": ');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ ...errorShape, statusCode: 400, error: 'Bad Request' });
  });

  it('refuses a __proto__ key in JSON with 400', async () => {
    const response = await post('{"text":"a","__proto__":{"admin":true}}');
    expect(response.status).toBe(400);
  });

  it('answers a body over BODY_LIMIT with 413', async () => {
    const response = await post(JSON.stringify({ text: 'x'.repeat(4096) }));
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      ...errorShape,
      statusCode: 413,
      error: 'Payload Too Large',
    });
  });

  it('answers an unsupported content type with 415', async () => {
    const response = await post('<text>hi</text>', { 'content-type': 'application/xml' });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ statusCode: 415 });
  });

  it('refuses unknown fields and says which, with 400', async () => {
    const response = await post(JSON.stringify({ text: 'hi', admin: true }));
    expect(response.status).toBe(400);
    expect((await errorOf(response)).message).toBe('property admin should not exist');
  });

  it('says what is wrong with a field of the wrong type', async () => {
    const response = await post(JSON.stringify({ text: 42 }));
    expect(response.status).toBe(400);
    expect((await errorOf(response)).message).toContain('text must be a string');
  });

  it('accepts a valid body', async () => {
    const response = await post(JSON.stringify({ text: 'hi' }));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ text: 'hi' });
  });

  it('keeps a stable error code that an exception gives, in the same shape', async () => {
    const response = await fetch(`${service.url}/echo/coded`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      ...errorShape,
      statusCode: 400,
      error: 'invalid_grant',
      message: 'The refresh token is invalid',
    });
  });

  it('answers an unexpected error with a bare 500 that leaks nothing', async () => {
    const response = await fetch(`${service.url}/echo/boom`);
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body).toEqual({ ...errorShape, statusCode: 500, message: 'Internal server error' });
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  it('keeps a plain x-request-id and replaces an unsafe one', async () => {
    const kept = await fetch(`${service.url}/health/live`, {
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await fetch(`${service.url}/health/live`, {
      headers: { 'x-request-id': 'evil\tvalue with spaces' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

const statelessConfig = registerAs('stateless', () =>
  validateEnvironment(HttpServiceEnvironment, process.env),
);

@Module({
  imports: [ServiceCoreModule.forRoot({ config: statelessConfig })],
  controllers: [EchoController],
})
class StatelessModule {}

describe('ServiceCoreModule without a database', () => {
  let service: TestApplication;

  beforeAll(async () => {
    service = await createTestApplication(StatelessModule, statelessConfig);
  });
  afterAll(() => service.close());

  it('is ready with nothing to ping, and has no TypeORM connection', async () => {
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', details: {} });
    expect(() => service.app.get(DataSource)).toThrow();
  });

  it('still validates bodies and answers errors in the house shape', async () => {
    const reply = await fetch(`${service.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(21) }),
    });
    expect(reply.status).toBe(400);
    expect(await errorOf(reply)).toMatchObject({ ...errorShape, statusCode: 400 });
  });
});
