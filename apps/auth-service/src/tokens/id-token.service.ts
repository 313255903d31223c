import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { ConfigType } from '@nestjs/config';
import { acrOf, Clock } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';
import { signJwt } from '../keys/jws';
import { KeysService } from '../keys/keys.service';
import { IssuanceMetrics } from '../metrics/issuance-metrics';

export interface IssueIdTokenInput {
  subject: string;
  /** The client the login was for: an ID token is addressed to it alone. */
  audience: string;
  /** When the user authenticated (OpenID Connect `auth_time`). */
  authTime: Date;
  sessionId: string;
  /** RFC 8176 methods of the sign-in (`amr`), with the `acr` they reach; absent: not said. */
  amr?: readonly string[];
  /** Only when the login asked for the `email` scope, with `email_verified`. */
  email?: string;
  /** Whether `email` is verified (users.email_verified_at); false when not said. */
  emailVerified?: boolean;
  /** The authorization request's `nonce`, echoed for the client to check (OIDC Core §3.1.2.1). */
  nonce?: string;
  /** The access token issued with it: its hash goes in `at_hash` (OIDC Core §3.1.3.6). */
  accessToken?: string;
}

/**
 * OIDC Core §3.1.3.6: the left half of the access token's hash, with the hash of the signing
 * algorithm (SHA-256 for both ES256 and RS256), in base64url.
 */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/**
 * OpenID Connect ID tokens (Core §2): who signed in, for the client to read. Header `typ: JWT`,
 * so no verifier in Tessera takes one for an access token (R23: they all require `at+jwt`).
 */
@Injectable()
export class IdTokenService {
  constructor(
    private readonly keys: KeysService,
    private readonly clock: Clock,
    private readonly metrics: IssuanceMetrics,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  async issue(input: IssueIdTokenInput): Promise<string> {
    const key = await this.keys.signingKey();
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const token = await signJwt(
      {
        iss: this.environment.ISSUER,
        sub: input.subject,
        aud: input.audience,
        exp: iat + this.environment.ACCESS_TOKEN_TTL,
        iat,
        auth_time: Math.floor(input.authTime.getTime() / 1000),
        sid: input.sessionId,
        ...(input.amr !== undefined && { amr: [...input.amr], acr: acrOf(input.amr) }),
        ...(input.nonce !== undefined && { nonce: input.nonce }),
        ...(input.accessToken !== undefined && { at_hash: atHash(input.accessToken) }),
        // Said either way, rather than leave clients to assume the address was verified.
        ...(input.email !== undefined && {
          email: input.email,
          email_verified: input.emailVerified === true,
        }),
      },
      key,
      'JWT',
    );
    this.metrics.tokenIssued('id');
    return token;
  }
}
