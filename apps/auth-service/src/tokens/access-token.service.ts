import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { JwtService, NotBeforeError, TokenExpiredError } from '@nestjs/jwt';
import { randomBytes } from 'node:crypto';
import { authServiceConfig } from '../config/auth-service.config';
import { KeysService } from '../keys/keys.service';
import {
  ACCESS_TOKEN_TYPE,
  InvalidAccessTokenError,
  readAccessTokenClaims,
  readAccessTokenHeader,
} from '@tessera/auth';
import type { AccessTokenClaims } from '@tessera/auth';
import { Clock } from '../clock/clock';
import { IssuanceMetrics } from '../metrics/issuance-metrics';

/** Leeway for `exp` and `nbf` when auth-service verifies its own tokens (RFC 8725: small). */
export const ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS = 60;

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
  /** Seconds; defaults to ACCESS_TOKEN_TTL. */
  expiresIn?: number;
}

export interface IssuedAccessToken {
  token: string;
  /** Seconds, for the `expires_in` of a token response. */
  expiresIn: number;
  jti: string;
  expiresAt: Date;
}

/** Signs access tokens (RFC 9068) with the active signing key, and verifies them for auth-service. */
@Injectable()
export class AccessTokenService {
  constructor(
    private readonly keys: KeysService,
    private readonly jwt: JwtService,
    private readonly clock: Clock,
    private readonly metrics: IssuanceMetrics,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  async issue(input: IssueAccessTokenInput): Promise<IssuedAccessToken> {
    const key = await this.keys.signingKey();
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const expiresIn = input.expiresIn ?? this.environment.ACCESS_TOKEN_TTL;
    const jti = randomBytes(16).toString('base64url');
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
    };
    const token = await this.jwt.signAsync(claims, {
      privateKey: key.privateKey,
      algorithm: key.alg,
      header: { alg: key.alg, typ: ACCESS_TOKEN_TYPE, kid: key.kid },
    });
    // A token without a session is a client's own (client credentials), not a user's.
    this.metrics.tokenIssued(input.sessionId === undefined ? 'service' : 'access');
    return { token, expiresIn, jti, expiresAt: new Date(claims.exp * 1000) };
  }

  /**
   * Verifies a token for auth-service's own endpoints: signature by a key of our JWKS (by kid,
   * algorithm pinned to that key's), `typ`, `iss`, `exp` (required) and `nbf`, with 60 s leeway.
   * The audience is not checked: our tokens name resource services, and auth-service accepts a
   * token for any of them because its callers also require the token's session (`sid`) to be
   * live in the database. Resource services check `aud` (libs/auth).
   *
   * @throws InvalidAccessTokenError with a reason for the debug log, whatever is wrong.
   */
  async verify(token: string): Promise<AccessTokenClaims> {
    // The same header checks as every resource service (@tessera/auth): alg, typ, crit, kid.
    const header = readAccessTokenHeader(token);
    const key = await this.keys.verificationKey(header.kid);
    if (!key) throw new InvalidAccessTokenError('unknown_key');
    if (key.alg !== header.alg) throw new InvalidAccessTokenError('algorithm');
    const payload = await this.jwt
      .verifyAsync<object>(token, {
        // @nestjs/jwt types this as string | Buffer, but hands it to jsonwebtoken 9 untouched, and a
        // KeyObject there is used as is instead of being parsed again on every call.
        publicKey: key.publicKey as unknown as Buffer,
        algorithms: [key.alg],
        issuer: this.environment.ISSUER,
        clockTimestamp: Math.floor(this.clock.now().getTime() / 1000),
        clockTolerance: ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS,
      })
      .catch((error: unknown) => {
        throw refusal(error);
      });
    return readAccessTokenClaims(payload);
  }
}

function refusal(error: unknown): InvalidAccessTokenError {
  if (error instanceof TokenExpiredError) return new InvalidAccessTokenError('expired');
  if (error instanceof NotBeforeError) return new InvalidAccessTokenError('not_yet_valid');
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('jwt issuer invalid')) return new InvalidAccessTokenError('issuer');
  return new InvalidAccessTokenError('signature', message);
}
