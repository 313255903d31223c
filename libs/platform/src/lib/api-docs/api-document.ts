import type {
  OpenAPIObject,
  OperationObject,
  PathItemObject,
  SecurityRequirementObject,
  SecuritySchemeObject,
} from '@nestjs/swagger';
import { ERROR_BODY_SCHEMA, ERROR_BODY_SCHEMA_NAME, errorResponse } from './api-errors.decorator';
import type { RouteAccess } from './route-access';

/** The security scheme of Tessera's access tokens. */
export const BEARER_SCHEME = 'bearer';

/**
 * The schemes a route may name (`@ApiSecurity('clientBasic')`); the document lists those in use.
 * Scopes and roles are written in the bearer requirement, as OpenAPI 3.1 allows for any scheme.
 */
export const SECURITY_SCHEMES: Readonly<Record<string, SecuritySchemeObject>> = {
  [BEARER_SCHEME]: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An access token: `access_token` of `POST /auth/login` (or of `POST /oauth/token`) at auth-service',
  },
  clientBasic: {
    type: 'http',
    scheme: 'basic',
    description: 'An OAuth client: its client_id and client_secret (RFC 6749 §2.3.1)',
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Fills in what every route's documentation should say and the decorators leave out: its
 * security, from `@Public()`, `@Scopes()` and `@Roles()` (a route without `@Public()` needs a
 * bearer token), and the errors that follow from it and from its input: 401 and 403, 400 for a
 * route with parameters or a body, 413 for one with a body, in the house error shape. What a
 * route documents itself (`@ApiSecurity`, `@ApiErrors`, `@ApiResponse`) is kept.
 */
export function completeApiDocument(
  document: OpenAPIObject,
  accessOf: (operationId: string) => RouteAccess | undefined,
): OpenAPIObject {
  const used = new Set<string>();
  for (const pathItem of Object.values(document.paths) as PathItemObject[]) {
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (!operation) continue;
      const access = operation.operationId ? accessOf(operation.operationId) : undefined;
      completeOperation(operation, access);
      for (const requirement of operation.security ?? []) {
        for (const scheme of Object.keys(requirement)) used.add(scheme);
      }
    }
  }
  for (const schema of Object.values(document.components?.schemas ?? {})) toOpenApi31(schema);
  const schemes = Object.fromEntries(
    Object.entries(SECURITY_SCHEMES).filter(([name]) => used.has(name)),
  );
  document.components = {
    ...document.components,
    securitySchemes: { ...document.components?.securitySchemes, ...schemes },
    schemas: { ...document.components?.schemas, [ERROR_BODY_SCHEMA_NAME]: ERROR_BODY_SCHEMA },
  };
  return document;
}

function completeOperation(operation: OperationObject, access: RouteAccess | undefined): void {
  if (operation.security === undefined && access) {
    operation.security = access.isPublic ? [] : [{ [BEARER_SCHEME]: access.scopes }];
  }
  const security = operation.security ?? [];
  const roles = access && !access.isPublic ? access.roles : [];
  if (roles.length > 0) Object.assign(operation, { 'x-required-roles': roles });
  const needs = describeNeeds(security, roles);
  if (needs) {
    operation.description = [needs, operation.description].filter(Boolean).join('\n\n');
  }
  const statuses: number[] = [];
  if ((operation.parameters?.length ?? 0) > 0 || operation.requestBody) statuses.push(400);
  if (security.some(isCredentialed)) statuses.push(401);
  // Only what the guard enforces: a route that names its own security documents its own 403.
  if (access && !access.isPublic && access.scopes.length + access.roles.length > 0) {
    statuses.push(403);
  }
  if (operation.requestBody) statuses.push(413);
  for (const status of statuses) {
    operation.responses[status] ??= errorResponse(status);
  }
}

function isCredentialed(requirement: SecurityRequirementObject): boolean {
  return Object.keys(requirement).length > 0;
}

function describeNeeds(security: SecurityRequirementObject[], roles: string[]): string {
  if (security.length === 0) return '**Open**: no token needed.';
  const bearer = security.find((requirement) => BEARER_SCHEME in requirement);
  if (!bearer) return '';
  const scopes = bearer[BEARER_SCHEME];
  const parts = [
    scopes.length > 0 ? `scope ${scopes.map((scope) => `\`${scope}\``).join(' ')}` : '',
    roles.length > 0 ? `role ${roles.map((role) => `\`${role}\``).join(' ')}` : '',
  ].filter(Boolean);
  return parts.length > 0
    ? `**Needs** an access token with ${parts.join(' and ')}.`
    : '**Needs** an access token.';
}

/**
 * @nestjs/swagger writes `nullable: true`, which OpenAPI 3.1 replaced with a `null` type: a
 * nullable string becomes `type: ['string', 'null']`.
 */
function toOpenApi31(schema: unknown): void {
  if (typeof schema !== 'object' || schema === null) return;
  const node = schema as Record<string, unknown>;
  if (node['nullable'] === true && typeof node['type'] === 'string') {
    node['type'] = [node['type'], 'null'];
    delete node['nullable'];
  }
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach(toOpenApi31);
    else toOpenApi31(value);
  }
}
