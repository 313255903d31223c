import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authServiceConfig } from '../config/auth-service.config';
import { signJwt } from '../keys/jws';
import { KeysService } from '../keys/keys.service';
import { ACCESS_TOKEN_TYPE, acrOf, Clock } from '@tessera/auth-token';
import type { AccessTokenClaims } from '@tessera/auth-token';
import { IssuanceMetrics } from '../metrics/issuance-metrics';
import { randomId } from './random-id';
import { ReferenceTokens } from './reference-tokens';

export interface IssueAccessTokenInput {
  subject: string;
  clientId: string;
  /** Granted scopes; an array is joined with spaces (RFC 9068 §2.2.3). */
  scope: string | readonly string[];
  roles: readonly string[];
  /** The session the token belongs to, as `sid`, so the session's revocation reaches it. */
  sessionId?: string;
  /**
   * `aud`: what the token was asked for and allowed (RFC 8707 `resource`, the session's grant, or
   * the client's default audiences). Always given: there is no default audience.
   */
  audience: string | readonly string[];
  /**
   * A user token: whether the user's address is verified, as `email_verified`, for
   * `@RequireVerifiedEmail()` routes. Absent for a service token.
   */
  emailVerified?: boolean;
  /** Seconds; defaults to ACCESS_TOKEN_TTL. */
  expiresIn?: number;
  /**
   * A user's sign-in: its RFC 8176 methods (`amr`, with the `acr` they reach) and when it happened
   * (`auth_time`), for step-up (RFC 9470). Absent for a service token.
   */
  authentication?: { amr: readonly string[]; time: Date };
}

export interface IssuedAccessToken {
  /** A JWT, or with ACCESS_TOKEN_FORMAT=reference a user's opaque reference to one. */
  token: string;
  /** Seconds, for the `expires_in` of a token response. */
  expiresIn: number;
  jti: string;
  expiresAt: Date;
}

/**
 * Signs access tokens (RFC 9068) with the active signing key. Verifying them is AccessTokenVerifier's
 * job (`@tessera/auth-token`), here as in every other service. With ACCESS_TOKEN_FORMAT=reference a
 * user's token (one with a session) goes out as an opaque reference instead (ReferenceTokens),
 * signed only when the gateway swaps it for its JWT.
 */
@Injectable()
export class AccessTokenService {
  constructor(
    private readonly keys: KeysService,
    private readonly clock: Clock,
    private readonly metrics: IssuanceMetrics,
    private readonly references: ReferenceTokens,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  async issue(input: IssueAccessTokenInput): Promise<IssuedAccessToken> {
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const expiresIn = input.expiresIn ?? this.environment.ACCESS_TOKEN_TTL;
    const jti = randomId(16);
    const claims: AccessTokenClaims = {
      iss: this.environment.ISSUER,
      sub: input.subject,
      aud: typeof input.audience === 'string' ? [input.audience] : [...input.audience],
      exp: iat + expiresIn,
      iat,
      jti,
      client_id: input.clientId,
      scope: typeof input.scope === 'string' ? input.scope : input.scope.join(' '),
      roles: [...input.roles],
      ...(input.sessionId === undefined ? {} : { sid: input.sessionId }),
      ...(input.authentication && {
        amr: [...input.authentication.amr],
        acr: acrOf(input.authentication.amr),
        auth_time: Math.floor(input.authentication.time.getTime() / 1000),
      }),
      ...(input.emailVerified !== undefined && { email_verified: input.emailVerified }),
    };
    const token =
      this.environment.ACCESS_TOKEN_FORMAT === 'reference' && input.sessionId !== undefined
        ? await this.references.issue({ ...claims, sid: input.sessionId })
        : await this.sign(claims);
    // A token without a session is a client's own (client credentials), not a user's.
    this.metrics.tokenIssued(input.sessionId === undefined ? 'service' : 'access');
    return { token, expiresIn, jti, expiresAt: new Date(claims.exp * 1000) };
  }

  /** The JWT of these claims, signed with the active key: also what a reference stands for. */
  async sign(claims: AccessTokenClaims): Promise<string> {
    return signJwt(claims, await this.keys.signingKey(), ACCESS_TOKEN_TYPE);
  }
}
