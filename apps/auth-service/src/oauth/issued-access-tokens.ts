import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AccessTokenVerifier, Clock, InvalidAccessTokenError } from '@tessera/auth-token';
import type { AccessTokenClaims } from '@tessera/auth-token';
import { Registry } from '../clients/registry';
import { authServiceConfig } from '../config/auth-service.config';
import { KeysService } from '../keys/keys.service';
import { ReferenceTokens } from '../tokens/reference-tokens';

/**
 * Access tokens auth-service issued, for whatever audience: what introspection (RFC 7662) and
 * revocation (RFC 7009) are asked about. The same AccessTokenVerifier as every guard, with every
 * audience of the registry instead of auth-service's own, so a token for a resource service is
 * judged here by exactly the rules that service applies. A reference token (ACCESS_TOKEN_FORMAT=
 * reference) is judged by its stored claims: unexpired, and (for the caller) as live as its session.
 */
@Injectable()
export class IssuedAccessTokens {
  private readonly verifier: AccessTokenVerifier;

  constructor(
    keys: KeysService,
    registry: Registry,
    clock: Clock,
    private readonly references: ReferenceTokens,
    @Inject(authServiceConfig.KEY) environment: ConfigType<typeof authServiceConfig>,
  ) {
    this.verifier = new AccessTokenVerifier({
      issuer: environment.ISSUER,
      audiences: registry.audienceIds,
      keys,
      clock,
    });
  }

  /** The claims of a valid token auth-service issued, JWT or reference; undefined for any other. */
  async claimsOf(token: string): Promise<AccessTokenClaims | undefined> {
    const reference = await this.references.claimsOf(token);
    if (reference) return reference;
    try {
      return (await this.verifier.verify(token)).claims;
    } catch (error) {
      if (error instanceof InvalidAccessTokenError) return undefined;
      throw error;
    }
  }
}
