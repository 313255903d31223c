import { RequestMethod } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
  SecurityRequirementObject,
} from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { API_DOCS_CONTENT_SECURITY_POLICY } from '@tessera/platform';
import { BEARER_SCHEME } from '@tessera/platform';
import { ERROR_BODY_SCHEMA_NAME } from '@tessera/platform';
import { applicationRoutes } from '@tessera/platform';
import type { ApplicationRoute } from '@tessera/platform';
import { SECURITY_HEADERS } from '@tessera/platform';

/** A route as the suite names it: `GET /notes/{id}`. */
type RouteKey = string;

export interface ApiDocsSuiteOptions {
  service: string;
  /** Called after the suite's beforeAll hooks: the running application (with docs on) and its URL. */
  target: () => { app: NestFastifyApplication; url: string };
  /**
   * The errors a route answers beyond those that follow from its security and input (401, 403,
   * 400, 413), e.g. `{ 'GET /notes/{id}': [404, 503] }`. Each must be documented.
   */
  errors: Record<RouteKey, number[]>;
  /** Routes that authenticate their callers themselves, with the security their docs must show. */
  ownSecurity?: Record<RouteKey, SecurityRequirementObject[]>;
  /** The schema of an error that is not in the house shape (RFC 6749's on OAuth endpoints). */
  errorSchemaOf?: (route: RouteKey, status: number) => string | undefined;
  /**
   * Routes a browser navigates to, which answer HTML pages and redirects, not an API (auth-service's
   * hosted sign-in pages and its authorization and end-session endpoints): they must be
   * `@Public()` and stay out of the OpenAPI document.
   */
  browserRoutes?: RouteKey[];
}

const HTTP_METHODS: Record<number, string> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT',
  [RequestMethod.DELETE]: 'DELETE',
  [RequestMethod.PATCH]: 'PATCH',
};

/**
 * Proves that every route of the service is guarded or explicitly `@Public()` (a request without a
 * token to any other route is refused with 401), and that its OpenAPI document at `/docs-json`
 * describes every route the application serves, so that a new undocumented route fails: its summary; its security (none where
 * `@Public()`, else a bearer token with the route's `@Scopes()`); its request body and success
 * response with their schemas; and its errors (401, 403, 400, 413 as its security and input
 * imply, and the ones listed in `errors`), each with an error schema; and, for each `@Body()` and
 * `@Query()` DTO, that every field's documented limits are those its class-validator rules
 * enforce. Each service's `api-docs.spec.ts` calls it once.
 */
export function describeApiDocs(options: ApiDocsSuiteOptions): void {
  let document: OpenAPIObject;
  let routes: Array<ApplicationRoute & { key: RouteKey; operation: OperationObject | undefined }>;
  let browserRoutes: typeof routes;

  beforeAll(async () => {
    const { app, url } = options.target();
    const response = await fetch(`${url}/docs-json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as OpenAPIObject;
    routes = applicationRoutes(app).map((route) => {
      const method = HTTP_METHODS[route.requestMethod] ?? 'ALL';
      const openApiPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const key = `${method} ${openApiPath}`;
      const operation = document.paths[openApiPath]?.[method.toLowerCase() as 'get'];
      return { ...route, key, operation };
    });
    browserRoutes = routes.filter((route) => options.browserRoutes?.includes(route.key));
    routes = routes.filter((route) => !options.browserRoutes?.includes(route.key));
  });

  const documented = (key: RouteKey) => {
    const route = routes.find((candidate) => candidate.key === key);
    if (!route?.operation) throw new Error(`${key} is not documented`);
    return { route, operation: route.operation };
  };

  describe(`${options.service} API docs`, () => {
    it('serves every route of the application, and the application serves every documented route', () => {
      const { app } = options.target();
      const fastify = app.getHttpAdapter().getInstance();
      expect(routes.length).toBeGreaterThan(0);
      for (const route of routes) {
        expect({
          route: route.key,
          served: fastify.hasRoute({ method: route.key.split(' ')[0] as 'GET', url: route.path }),
        }).toEqual({ route: route.key, served: true });
      }
      const documentedKeys = Object.entries(document.paths).flatMap(([path, item]) =>
        Object.keys(item)
          .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
          .map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(documentedKeys.sort()).toEqual(routes.map((route) => route.key).sort());
      expect(Object.keys(options.errors).filter((key) => !documentedKeys.includes(key))).toEqual(
        [],
      );
    });

    it('serves each browser route, @Public() and left out of the API docs', () => {
      expect(browserRoutes.map((route) => route.key).sort()).toEqual(
        [...(options.browserRoutes ?? [])].sort(),
      );
      for (const route of browserRoutes) {
        expect({
          route: route.key,
          isPublic: route.isPublic,
          documented: !!route.operation,
        }).toEqual({ route: route.key, isPublic: true, documented: false });
      }
    });

    it('refuses every route that is not @Public() to a caller without a token: the global guard', async () => {
      const { url } = options.target();
      const guarded = routes.filter((route) => !route.isPublic);
      expect(guarded.length).toBeGreaterThan(0);
      for (const route of guarded) {
        const [method] = route.key.split(' ');
        const path = route.path.replace(/:[A-Za-z0-9_]+/g, '00000000-0000-4000-8000-000000000000');
        const response = await fetch(`${url}${path}`, { method });
        await response.body?.cancel();
        expect({
          route: route.key,
          status: response.status,
          challenge: response.headers.get('www-authenticate'),
        }).toEqual({ route: route.key, status: 401, challenge: 'Bearer' });
      }
    });

    it('gives every route a summary and the security the guard enforces (none where @Public)', () => {
      for (const { key } of routes) {
        const { route, operation } = documented(key);
        expect({ key, summary: typeof operation.summary }).toEqual({ key, summary: 'string' });
        const expected =
          options.ownSecurity?.[key] ?? (route.isPublic ? [] : [{ [BEARER_SCHEME]: route.scopes }]);
        // Alternatives, in no particular order.
        const sorted = (security: SecurityRequirementObject[] = []) =>
          [...security].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        expect({ key, security: sorted(operation.security) }).toEqual({
          key,
          security: sorted(expected),
        });
      }
      for (const requirement of routes.flatMap((route) => route.operation?.security ?? [])) {
        for (const scheme of Object.keys(requirement)) {
          expect(document.components?.securitySchemes).toHaveProperty(scheme);
        }
      }
    });

    it("documents each route's errors, each with an error schema", () => {
      for (const { key } of routes) {
        const { route, operation } = documented(key);
        const secured = (operation.security ?? []).some(
          (requirement) => Object.keys(requirement).length > 0,
        );
        const expected = new Set<number>(options.errors[key] ?? []);
        if (secured) expected.add(401);
        if (!route.isPublic && route.scopes.length + route.roles.length > 0) expected.add(403);
        if ((operation.parameters?.length ?? 0) > 0 || operation.requestBody) expected.add(400);
        if (operation.requestBody) expected.add(413);
        const errors = Object.keys(operation.responses)
          .map(Number)
          .filter((status) => status >= 400);
        expect({ key, errors: errors.sort() }).toEqual({ key, errors: [...expected].sort() });
        for (const status of errors) {
          const name = options.errorSchemaOf?.(key, status) ?? ERROR_BODY_SCHEMA_NAME;
          const schema = `#/components/schemas/${name}`;
          const response = operation.responses[status] as ResponseObject;
          expect({ key, status, schema: response.content?.['application/json']?.schema }).toEqual({
            key,
            status,
            schema: { $ref: schema },
          });
        }
      }
    });

    it('documents each request body and success response with a schema', () => {
      for (const { key } of routes) {
        const { operation } = documented(key);
        const successes = Object.entries(operation.responses).filter(([status]) =>
          /^2\d\d$/.test(status),
        );
        expect({ key, successes: successes.length }).toEqual({ key, successes: 1 });
        const [status, response] = successes[0] as [string, ResponseObject];
        // 204, and an OAuth revocation's empty 200, have no body to describe.
        const media = Object.values(response.content ?? {});
        if (status !== '204' && media.length === 0) {
          expect({ key, description: response.description }).toEqual({
            key,
            description: expect.stringMatching(/empty body/i),
          });
        }
        for (const { schema } of media)
          expect({ key, schema: schema !== undefined }).toEqual({ key, schema: true });
        const body = operation.requestBody as RequestBodyObject | undefined;
        for (const { schema } of Object.values(body?.content ?? {})) {
          expect({ key, schema: schema !== undefined }).toEqual({ key, schema: true });
        }
      }
    });

    it('names only schemas it defines, and defines each with its properties', () => {
      const references = JSON.stringify(document).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
      const names = [...new Set(references.map((reference) => reference.slice(22, -1)))];
      const schemas = document.components?.schemas ?? {};
      expect(names.filter((name) => !(name in schemas))).toEqual([]);
      for (const [name, schema] of Object.entries(schemas)) {
        expect({
          name,
          properties: Object.keys((schema as { properties?: object }).properties ?? {}).length > 0,
        }).toEqual({
          name,
          properties: true,
        });
      }
      expect((schemas[ERROR_BODY_SCHEMA_NAME] as { required?: string[] }).required?.sort()).toEqual(
        ['error', 'message', 'requestId', 'statusCode'],
      );
    });

    it('documents each body and query field with the limits its validation enforces', () => {
      let checked = 0;
      for (const { key } of routes) {
        const { route, operation } = documented(key);
        for (const { source, limits } of validatedInputsOf(route)) {
          const documentedField =
            source === 'body' ? bodyFieldOf(document, operation) : queryFieldOf(operation);
          for (const [property, enforced] of limits) {
            expect({ key, property, ...documentedField(property) }).toEqual({
              key,
              property,
              documented: true,
              ...enforced,
            });
            checked += 1;
          }
        }
      }
      expect(checked).toBeGreaterThan(0);
    });

    it('serves Swagger UI at /docs under its own policy, and the document under the strict one', async () => {
      const { url } = options.target();
      const page = await fetch(`${url}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('swagger-ui-init.js');
      expect(page.headers.get('content-security-policy')).toBe(API_DOCS_CONTENT_SECURITY_POLICY);
      const json = await fetch(`${url}/docs-json`);
      expect(json.headers.get('content-security-policy')).toBe(
        SECURITY_HEADERS['content-security-policy'],
      );
    });
  });
}

/**
 * The limits of a field that both class-validator and OpenAPI express. Written twice in a DTO
 * (`@MaxLength(254)` and `@ApiProperty({ maxLength: 254 })`), so compared here.
 */
interface FieldLimits {
  required: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  email?: true;
}

type InputClass = new () => Record<string, unknown>;

/** The route's `@Body()` and `@Query()` classes that carry class-validator rules, with them. */
function validatedInputsOf(
  route: ApplicationRoute,
): Array<{ source: 'body' | 'query'; limits: Map<string, FieldLimits> }> {
  const parameterTypes = (Reflect.getMetadata(
    'design:paramtypes',
    route.controller.prototype as object,
    route.methodName,
  ) ?? []) as unknown[];
  const argumentsOf = (Reflect.getMetadata(
    ROUTE_ARGS_METADATA,
    route.controller,
    route.methodName,
  ) ?? {}) as Record<string, { index: number; data?: unknown }>;
  return Object.entries(argumentsOf).flatMap(([id, { index, data }]) => {
    const kind = Number(id.split(':')[0]);
    const source =
      kind === RouteParamtypes.BODY ? 'body' : kind === RouteParamtypes.QUERY ? 'query' : undefined;
    const type = parameterTypes[index];
    // A whole DTO (`@Body() dto`), not one field of it (`@Query('q')`).
    if (source === undefined || data !== undefined || typeof type !== 'function') return [];
    const limits = enforcedLimitsOf(type as InputClass);
    return limits.size > 0 ? [{ source, limits }] : [];
  });
}

/** Each validated property of `type` with the limits its decorators enforce. */
function enforcedLimitsOf(type: InputClass): Map<string, FieldLimits> {
  const rules = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  const defaults = new type();
  const limits = new Map<string, FieldLimits>();
  for (const rule of rules) {
    const field = limits.get(rule.propertyName) ?? {
      // A default value makes the field optional as surely as @IsOptional() does.
      required: defaults[rule.propertyName] === undefined,
    };
    const [constraint] = (rule.constraints ?? []) as unknown[];
    // @IsOptional() and @ValidateIf(): the field may be left out.
    if (rule.type === 'conditionalValidation') field.required = false;
    else if (rule.name === 'maxLength') field.maxLength = constraint as number;
    else if (rule.name === 'minLength' && (constraint as number) > 0)
      field.minLength = constraint as number;
    else if (rule.name === 'isText') {
      const { min, max } = constraint as { min: number; max: number };
      field.maxLength = max;
      if (min > 0) field.minLength = min;
    } else if (rule.name === 'min') field.minimum = constraint as number;
    else if (rule.name === 'max') field.maximum = constraint as number;
    else if (rule.name === 'isEmail') field.email = true;
    limits.set(rule.propertyName, field);
  }
  return limits;
}

function limitsOfSchema(schema: SchemaObject | undefined, required: boolean): FieldLimits {
  const limits: FieldLimits = { required };
  // Only the limits the schema sets, so that a failure shows just the difference.
  if (schema?.minLength !== undefined) limits.minLength = schema.minLength;
  if (schema?.maxLength !== undefined) limits.maxLength = schema.maxLength;
  if (schema?.minimum !== undefined) limits.minimum = schema.minimum;
  if (schema?.maximum !== undefined) limits.maximum = schema.maximum;
  if (schema?.format === 'email') limits.email = true;
  return limits;
}

/** A property of the operation's JSON body schema, as documented. */
function bodyFieldOf(document: OpenAPIObject, operation: OperationObject) {
  const body = operation.requestBody as RequestBodyObject | undefined;
  const reference = body?.content['application/json']?.schema as ReferenceObject | undefined;
  const name = reference?.$ref?.split('/').pop() ?? '';
  const schema = document.components?.schemas?.[name] as SchemaObject | undefined;
  return (property: string): FieldLimits & { documented: boolean } => {
    const field = schema?.properties?.[property] as SchemaObject | undefined;
    return {
      documented: field !== undefined,
      ...limitsOfSchema(field, schema?.required?.includes(property) === true),
    };
  };
}

/** A query parameter of the operation, as documented. */
function queryFieldOf(operation: OperationObject) {
  return (property: string): FieldLimits & { documented: boolean } => {
    const parameter = (operation.parameters ?? []).find(
      (candidate) =>
        (candidate as ParameterObject).in === 'query' &&
        (candidate as ParameterObject).name === property,
    ) as ParameterObject | undefined;
    return {
      documented: parameter !== undefined,
      ...limitsOfSchema(
        parameter?.schema as SchemaObject | undefined,
        parameter?.required === true,
      ),
    };
  };
}
