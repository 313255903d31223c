import { Body, Controller, Get, Module, Param, Post, SetMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiOkResponse, ApiProperty, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { createServiceApplication } from '../bootstrap/bootstrap-service';
import { EnvironmentValidationError } from '../config/environment-validation.error';
import { ServiceEnvironment } from '../config/service-environment';
import { validateEnvironment } from '../config/validate-environment';
import { ROLES_KEY, SCOPES_KEY } from '@tessera/auth-token';
import { Public } from '@tessera/auth-token';
import { ApiErrors } from './api-errors.decorator';

class ThingDto {
  @ApiProperty()
  @IsString()
  name!: string;
}

@SetMetadata(SCOPES_KEY, ['things:read'])
@Controller('things')
class ThingsController {
  @Get()
  list() {
    return [];
  }

  @SetMetadata(SCOPES_KEY, ['things:write'])
  @SetMetadata(ROLES_KEY, ['admin'])
  @Post()
  create(@Body() body: ThingDto) {
    return body;
  }

  @ApiOkResponse({ type: ThingDto })
  @ApiErrors(404)
  @Get(':id')
  get(@Param('id') id: string) {
    return { id };
  }
}

@Controller('open')
class OpenController {
  @Public()
  @Get()
  open() {
    return { open: true };
  }

  @Get('default')
  guardedByDefault() {
    return { guarded: true };
  }
}

@Module({ controllers: [ThingsController, OpenController] })
class ExampleModule {}

async function serve(variables: Record<string, string>) {
  const environment = validateEnvironment(ServiceEnvironment, { LOG_LEVEL: 'warn', ...variables });
  const app: NestFastifyApplication = await createServiceApplication(
    ExampleModule,
    environment,
    'example',
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { app, url };
}

async function documentOf(variables: Record<string, string> = {}): Promise<OpenAPIObject> {
  const { app, url } = await serve(variables);
  try {
    const response = await fetch(`${url}/docs-json`);
    expect(response.status).toBe(200);
    return (await response.json()) as OpenAPIObject;
  } finally {
    await app.close();
  }
}

describe('API docs of every service', () => {
  it("derives each route's security from @Public, @Scopes and @Roles, with the 401 and 403 that follow", async () => {
    const document = await documentOf();
    const list = document.paths['/things']?.get;
    const create = document.paths['/things']?.post;
    expect(list?.security).toEqual([{ bearer: ['things:read'] }]);
    expect(Object.keys(list?.responses ?? {}).sort()).toEqual(['200', '401', '403']);
    // The controller's scope and the route's add up, as the guard checks them.
    expect(create?.security).toEqual([{ bearer: ['things:write', 'things:read'] }]);
    expect(create).toMatchObject({ 'x-required-roles': ['admin'] });
    expect(create?.description).toContain('role `admin`');
    expect(Object.keys(create?.responses ?? {}).sort()).toEqual([
      '201',
      '400',
      '401',
      '403',
      '413',
    ]);
    expect(document.paths['/open']?.get?.security).toEqual([]);
    expect(Object.keys(document.paths['/open']?.get?.responses ?? {})).toEqual(['200']);
    // Secure by default: no @Public() means a bearer token, as the global guard wants.
    expect(document.paths['/open/default']?.get?.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(document.paths['/open/default']?.get?.responses ?? {}).sort()).toEqual([
      '200',
      '401',
    ]);
    expect(document.components?.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
  });

  it('documents every error in the house shape, keeping what a route says itself', async () => {
    const document = await documentOf();
    const get = document.paths['/things/{id}']?.get;
    expect(Object.keys(get?.responses ?? {}).sort()).toEqual(['200', '400', '401', '403', '404']);
    for (const status of ['400', '401', '403', '404']) {
      expect(get?.responses[status]).toMatchObject({
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
      });
    }
    expect(get?.responses['401']).toMatchObject({
      headers: { 'WWW-Authenticate': expect.any(Object) },
    });
    expect(document.components?.schemas?.['ErrorBody']).toMatchObject({
      required: ['statusCode', 'error', 'message', 'requestId'],
    });
    expect(document.info.title).toBe('example');
  });

  it.each([
    ['API_DOCS=false', { API_DOCS: 'false' }],
    [
      'NODE_ENV=production',
      { NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db' },
    ],
  ])(
    'serves neither /docs nor /docs-json with %s (404 in the house shape)',
    async (_name, variables) => {
      const { app, url } = await serve(variables);
      try {
        for (const path of ['/docs', '/docs/', '/docs-json', '/docs/swagger-ui-init.js']) {
          const response = await fetch(`${url}${path}`);
          expect({ path, status: response.status }).toEqual({ path, status: 404 });
          expect(await response.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
        }
      } finally {
        await app.close();
      }
    },
  );

  it('builds the document on the first request for it, not at start-up, and only once', async () => {
    const createDocument = jest.spyOn(SwaggerModule, 'createDocument');
    try {
      const { app, url } = await serve({});
      try {
        expect(createDocument).not.toHaveBeenCalled();
        const [first, second] = await Promise.all(
          ['/docs-json', '/docs-json'].map(async (path) => (await fetch(`${url}${path}`)).json()),
        );
        expect(first).toEqual(second);
        expect((await fetch(`${url}/docs/swagger-ui-init.js`)).status).toBe(200);
        expect(createDocument).toHaveBeenCalledTimes(1);
      } finally {
        await app.close();
      }
    } finally {
      createDocument.mockRestore();
    }
  });

  it('serves them in production when API_DOCS=true', async () => {
    const document = await documentOf({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db',
      API_DOCS: 'true',
    });
    expect(document.openapi).toBe('3.1.0');
  });

  it('refuses an API_DOCS that is not true or false', () => {
    expect(() => validateEnvironment(ServiceEnvironment, { API_DOCS: 'yes' })).toThrow(
      EnvironmentValidationError,
    );
    expect(() => validateEnvironment(ServiceEnvironment, { API_DOCS: 'yes' })).toThrow(
      /API_DOCS: must be true or false/,
    );
  });
});
