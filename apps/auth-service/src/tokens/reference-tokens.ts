import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Clock } from '@tessera/auth-token';
import type { AccessTokenClaims } from '@tessera/auth-token';
import { Repository } from 'typeorm';
import { generateOpaqueToken, hashOpaqueToken, OPAQUE_TOKEN } from '../authorization/opaque-token';
import { ReferenceToken } from './reference-token.entity';

/**
 * Reference access tokens: 256 random bits handed to the client, their SHA-256 and claims kept
 * here until `exp`. What introspection and revocation look up when a token is not a JWT.
 */
@Injectable()
export class ReferenceTokens {
  constructor(
    @InjectRepository(ReferenceToken) private readonly references: Repository<ReferenceToken>,
    private readonly clock: Clock,
  ) {}

  /**
   * A new reference for the claims of a session's access token. The session's expired references
   * go in the same statement, so a long session keeps only its live ones.
   */
  async issue(claims: AccessTokenClaims & { sid: string }): Promise<string> {
    const token = generateOpaqueToken();
    await this.references.query(
      `WITH pruned AS (
         DELETE FROM reference_tokens WHERE session_id = $2 AND expires_at <= $5
       )
       INSERT INTO reference_tokens (token_hash, session_id, claims, expires_at)
       VALUES ($1, $2, $3, $4)`,
      [hashOpaqueToken(token), claims.sid, claims, new Date(claims.exp * 1000), this.clock.now()],
    );
    return token;
  }

  /** The claims of an unexpired reference; undefined for anything else, a JWT included. */
  async claimsOf(token: string): Promise<AccessTokenClaims | undefined> {
    if (!OPAQUE_TOKEN.test(token)) return undefined;
    const reference = await this.references.findOneBy({ tokenHash: hashOpaqueToken(token) });
    if (!reference || reference.expiresAt.getTime() <= this.clock.now().getTime()) return undefined;
    return reference.claims;
  }
}
