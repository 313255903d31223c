import { BadRequestException, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import type { HttpException } from '@nestjs/common';
import type { AuthenticationRequirement } from '@tessera/auth-token';

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

/**
 * 401 + `error="insufficient_user_authentication"` (RFC 9470 §3): a good token whose sign-in is
 * too weak or too old for the route, with the `acr_values` and `max_age` a new sign-in must meet.
 */
export function insufficientUserAuthentication(
  needed: AuthenticationRequirement,
): UnauthorizedException {
  const attributes = [
    'error="insufficient_user_authentication"',
    ...(needed.acr === undefined ? [] : [`acr_values="${needed.acr}"`]),
    ...(needed.maxAge === undefined ? [] : [`max_age=${needed.maxAge}`]),
  ];
  const wants = [
    ...(needed.acr === undefined ? [] : ['a second factor']),
    ...(needed.maxAge === undefined ? [] : [`a sign-in within ${needed.maxAge} seconds`]),
  ];
  return withHeaders(
    new UnauthorizedException({
      error: 'insufficient_user_authentication',
      message: `This needs ${wants.join(' and ')}: sign in again`,
    }),
    `Bearer ${attributes.join(', ')}`,
  );
}

/**
 * 403 + `error="email_not_verified"`: a good token whose user has not verified their email
 * address, on a route marked `@RequireVerifiedEmail()`. An extension error code (RFC 6749 §8.5):
 * no standard one says it, and `insufficient_scope` would send the client after a scope.
 */
export function emailNotVerified(): ForbiddenException {
  return withHeaders(
    new ForbiddenException({
      error: 'email_not_verified',
      message: 'This needs a verified email address: follow the link in the verification mail',
    }),
    'Bearer error="email_not_verified"',
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
