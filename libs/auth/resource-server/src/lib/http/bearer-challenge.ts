import { BadRequestException, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import type { HttpException } from '@nestjs/common';

/**
 * The RFC 6750 §3 answers of a resource service, in the house error shape. The platform's error
 * filter copies `headers` onto the reply.
 */

/** 401 + `WWW-Authenticate: Bearer`: no token was sent (R1). */
export function missingBearerToken(): UnauthorizedException {
  return withHeaders(new UnauthorizedException('An access token is required'), 'Bearer');
}

/**
 * 401 + `WWW-Authenticate: Bearer error="invalid_token"` for any bad, expired or revoked token
 * (R2). The body never says why: the reason belongs in the debug log.
 */
export function invalidBearerToken(): UnauthorizedException {
  return withHeaders(
    new UnauthorizedException('The access token is invalid or expired'),
    'Bearer error="invalid_token"',
  );
}

/** 403 + `error="insufficient_scope"`: a good token without the scope or role (R3). */
export function insufficientScope(needed: {
  scopes?: readonly string[];
  roles?: readonly string[];
}): ForbiddenException {
  const scopes = needed.scopes ?? [];
  const wants = [
    ...(scopes.length > 0 ? [`the scope ${scopes.join(' ')}`] : []),
    ...(needed.roles?.length ? [`the role ${needed.roles.join(' ')}`] : []),
  ];
  const scopeAttribute = scopes.length > 0 ? `, scope="${scopes.join(' ')}"` : '';
  return withHeaders(
    new ForbiddenException({
      error: 'insufficient_scope',
      message: `This needs ${wants.join(' and ')}`,
    }),
    `Bearer error="insufficient_scope"${scopeAttribute}`,
  );
}

/** 400 + `error="invalid_request"`: the token came more than one way at once (R5). */
export function ambiguousBearerToken(): BadRequestException {
  return withHeaders(
    new BadRequestException({
      error: 'invalid_request',
      message: 'Send the access token one way only: in the Authorization header',
    }),
    'Bearer error="invalid_request"',
  );
}

function withHeaders<T extends HttpException>(exception: T, challenge: string): T {
  return Object.assign(exception, { headers: { 'www-authenticate': challenge } });
}
