import { Body, Controller, Module, Post } from '@nestjs/common';
import type { MiddlewareConsumer, NestModule } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsOptional, IsString } from 'class-validator';
import { createServiceApplication } from '../bootstrap/bootstrap-service';
import { ServiceEnvironment } from '../config/service-environment';
import { validateEnvironment } from '../config/validate-environment';
import { ServiceCoreModule } from '../service-core.module';
import { trustProxyOf } from './fastify-adapter';
import { JSON_MAX_DEPTH, JSON_MAX_KEYS, jsonBodyProblem } from './json-body-limits';

describe('trustProxyOf', () => {
  it('trusts no proxy by default, a hop count as a number, and addresses as given', () => {
    expect(trustProxyOf('')).toBe(false);
    expect(trustProxyOf('1')).toBe(1);
    expect(trustProxyOf('10.0.0.0/8,loopback')).toBe('10.0.0.0/8,loopback');
  });
});

describe('jsonBodyProblem', () => {
  it('passes ordinary bodies, and brackets, braces and colons inside strings', () => {
    expect(jsonBodyProblem('{"email":"a@example.com","password":"x"}')).toBeUndefined();
    expect(jsonBodyProblem(JSON.stringify({ title: '[[[[{{{{:::'.repeat(500) }))).toBeUndefined();
    expect(
      jsonBodyProblem(JSON.stringify({ title: '\\"[[[[[[' + '['.repeat(100) })),
    ).toBeUndefined();
    const deepest = '['.repeat(JSON_MAX_DEPTH) + ']'.repeat(JSON_MAX_DEPTH);
    expect(jsonBodyProblem(deepest)).toBeUndefined();
  });

  it('names the limit passed: depth, or keys', () => {
    const tooDeep = '{"a":'.repeat(JSON_MAX_DEPTH + 1) + '1' + '}'.repeat(JSON_MAX_DEPTH + 1);
    expect(jsonBodyProblem(tooDeep)).toMatch(/nested too deeply: more than 32 levels/);
    const tooMany = JSON.stringify(
      Object.fromEntries(Array.from({ length: JSON_MAX_KEYS + 1 }, (_, i) => [`k${i}`, i])),
    );
    expect(jsonBodyProblem(tooMany)).toMatch(/too many keys: more than 1000/);
  });
});

class ExampleBody {
  @IsOptional()
  @IsString()
  title?: string;
}

@Controller()
class ExampleController {
  @Post('things')
  create(@Body() body: ExampleBody) {
    return { created: typeof body };
  }
}

const exampleConfig = registerAs('example', () =>
  validateEnvironment(ServiceEnvironment, { LOG_LEVEL: 'fatal' }),
);

/** The house error shape and strict validation, as every service has them. */
@Module({
  imports: [ServiceCoreModule.forRoot({ config: exampleConfig })],
  controllers: [ExampleController],
})
class ExampleModule {}

describe('JSON body limits of every service (O3)', () => {
  let app: NestFastifyApplication;
  let url: string;
  beforeAll(async () => {
    const environment = validateEnvironment(ServiceEnvironment, { LOG_LEVEL: 'fatal' });
    app = await createServiceApplication(ExampleModule, environment);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => app.close());

  const post = async (body: string, contentType = 'application/json') => {
    const response = await fetch(`${url}/things`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it.each([
    ['arrays', '['.repeat(10000) + ']'.repeat(10000)],
    ['objects', '{"a":'.repeat(10000) + '1' + '}'.repeat(10000)],
    ['a field', '{"title":' + '['.repeat(10000) + ']'.repeat(10000) + '}'],
  ])('answers 400 in the house shape to %s nested 10,000 levels deep', async (_, text) => {
    const reply = await post(text);
    expect(reply.status).toBe(400);
    expect(Object.keys(reply.body).sort()).toEqual(['error', 'message', 'requestId', 'statusCode']);
    expect(reply.body['message']).toMatch(/nested too deeply/);
  });

  it('answers 400 to too many keys, and keeps refusing __proto__ and malformed JSON', async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `"k${i}":1`).join(',');
    const tooMany = await post(`{${keys}}`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body['message']).toMatch(/too many keys/);
    expect((await post('{"__proto__":{"admin":true}}')).status).toBe(400);
    expect((await post('{"constructor":{"prototype":{"admin":true}}}')).status).toBe(400);
    expect((await post('{"title":')).status).toBe(400);
    expect((await post('')).status).toBe(400);
  });

  it('still parses ordinary JSON and forms', async () => {
    expect((await post('{"title":"hello"}')).status).toBe(201);
    expect((await post('{"title":"hello"}', 'application/json; charset=utf-8')).status).toBe(201);
    expect((await post('title=hello', 'application/x-www-form-urlencoded')).status).toBe(201);
  });
});

@Module({ imports: [ExampleModule] })
class WithMiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((_request: unknown, _response: unknown, next: () => void) => next())
      .forRoutes('*');
  }
}

describe('Nest middleware', () => {
  it('is not available (@fastify/middie is not registered): a module that applies some does not start', async () => {
    const environment = validateEnvironment(ServiceEnvironment, { LOG_LEVEL: 'fatal' });
    await expect(createServiceApplication(WithMiddlewareModule, environment)).rejects.toThrow(
      /use is not a function/,
    );
  });
});
