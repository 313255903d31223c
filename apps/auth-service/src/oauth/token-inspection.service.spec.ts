import type { AccessTokenClaims, AccessTokenVerifier } from '@tessera/auth-token';
import { Clock } from '@tessera/auth-token';
import type { ConfigType } from '@nestjs/config';
import type { AuditService } from '../audit/audit.service';
import type { RequestContext } from '../auth/auth.service';
import type { authServiceConfig } from '../config/auth-service.config';
import type { SessionsService } from '../sessions/sessions.service';
import type { AccessTokenService } from '../tokens/access-token.service';
import type { ReferenceTokens } from '../tokens/reference-tokens';
import type { ClientAuthenticator } from './client-authenticator';
import type { IssuedAccessTokens } from './issued-access-tokens';
import type { OAuthRequest } from './oauth-request';
import {
  PHANTOM_JWT_SECONDS,
  PHANTOM_TOKEN_SCOPE,
  TokenInspectionService,
} from './token-inspection.service';

const NOW = 1_800_000_000;
const CONTEXT: RequestContext = { clientAddress: '127.0.0.1', userAgent: 'test' };

/** The phantom-token swap against fakes: what it signs, not how (AccessTokenService's spec). */
describe('TokenInspectionService.phantomJwt', () => {
  function swapOf(
    reference: AccessTokenClaims | undefined,
    params: Record<string, string> = { audience: 'resource-service' },
  ) {
    const signed: AccessTokenClaims[] = [];
    const clock = new Clock();
    jest.spyOn(clock, 'now').mockReturnValue(new Date(NOW * 1000 + 700));
    const service = new TokenInspectionService(
      {
        authenticate: async () => ({ id: 'gateway', scopes: [PHANTOM_TOKEN_SCOPE] }),
      } as unknown as ClientAuthenticator,
      { findActive: async () => ({ userId: 'u1' }) } as unknown as SessionsService,
      {} as AccessTokenVerifier,
      {} as IssuedAccessTokens,
      { record: async () => undefined } as unknown as AuditService,
      { claimsOf: async () => reference } as unknown as ReferenceTokens,
      {
        sign: async (claims: AccessTokenClaims) => {
          signed.push(claims);
          return 'signed.jwt';
        },
      } as unknown as AccessTokenService,
      clock,
      { ISSUER: 'https://auth.example.com' } as ConfigType<typeof authServiceConfig>,
    );
    const request: OAuthRequest = {
      params: { token: 'A'.repeat(43), ...params },
      resources: [],
      credentials: { clientId: 'gateway', secret: 'secret' },
      viaHeader: true,
    };
    const swap = service.phantomJwt(request, CONTEXT);
    return { swap, signed };
  }

  const reference = (lifetime: number): AccessTokenClaims => ({
    iss: 'https://auth.example.com',
    sub: 'u1',
    aud: ['auth-service', 'resource-service'],
    iat: NOW - 100,
    exp: NOW + lifetime,
    jti: 'j1',
    client_id: 'tessera-first-party',
    scope: 'openid',
    roles: [],
    sid: 's1',
  });

  it(`signs a reference with 15 minutes left for ${PHANTOM_JWT_SECONDS} s from now, not its whole lifetime`, async () => {
    const { swap, signed } = swapOf(reference(900));
    expect(await swap).toBe('signed.jwt');
    expect(signed).toHaveLength(1);
    expect(signed[0]?.aud).toEqual(['resource-service']);
    expect(signed[0]).toMatchObject({ iat: NOW, exp: NOW + PHANTOM_JWT_SECONDS, sub: 'u1' });
    expect(PHANTOM_JWT_SECONDS).toBeLessThanOrEqual(60);
  });

  it('never outlives the reference: one with 10 s left gives a JWT with 10 s left', async () => {
    const { swap, signed } = swapOf(reference(10));
    await swap;
    expect(signed[0]).toMatchObject({ iat: NOW, exp: NOW + 10 });
  });

  it('signs for the one audience asked for, only when the reference was issued for it', async () => {
    const { swap, signed } = swapOf(reference(900), { audience: 'auth-service' });
    await swap;
    expect(signed[0]?.aud).toEqual(['auth-service']);
    const other = swapOf(reference(900), { audience: 'billing-service' });
    expect(await other.swap).toBeUndefined();
    expect(other.signed).toHaveLength(0);
  });

  it('refuses a swap without an audience with invalid_request', async () => {
    const { swap, signed } = swapOf(reference(900), {});
    await expect(swap).rejects.toMatchObject({ code: 'invalid_request' });
    expect(signed).toHaveLength(0);
  });

  it('signs nothing for an unknown or expired reference', async () => {
    const { swap, signed } = swapOf(undefined);
    expect(await swap).toBeUndefined();
    expect(signed).toHaveLength(0);
  });
});
