import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AccessTokenVerifier, Clock, InvalidAccessTokenError } from '@tessera/auth-token';
import type { AccessTokenClaims } from '@tessera/auth-token';
import { ClientsService } from '../clients/clients.service';
import { authServiceConfig } from '../config/auth-service.config';
import { KeysService } from '../keys/keys.service';

/**
 * Access tokens auth-service issued, for whatever audience: what introspection (RFC 7662) and
 * revocation (RFC 7009) are asked about. The same AccessTokenVerifier as every guard, with every
 * audience a client may ask for instead of auth-service's own, so a token for a resource service
 * is judged here by exactly the rules that service applies.
 */
@Injectable()
export class IssuedAccessTokens {
  constructor(
    private readonly keys: KeysService,
    private readonly clients: ClientsService,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /** The claims of a valid token auth-service issued; undefined for any other. */
  async claimsOf(token: string): Promise<AccessTokenClaims | undefined> {
    const verifier = new AccessTokenVerifier({
      issuer: this.environment.ISSUER,
      audiences: await this.clients.audiences(),
      keys: this.keys,
      algorithms: [this.environment.SIGNING_ALGORITHM],
      clock: this.clock,
    });
    try {
      return (await verifier.verify(token)).claims;
    } catch (error) {
      if (error instanceof InvalidAccessTokenError) return undefined;
      throw error;
    }
  }
}
