import { Logger, ServiceUnavailableException } from '@nestjs/common';
import type { Principal } from '@tessera/auth-token';
import type { ServiceTokenProvider } from '../service-token/service-token.provider';

export interface TokenIntrospectionClientOptions {
  /** auth-service's `POST /oauth/introspect`. */
  uri: string;
  /** Milliseconds the whole request may take. */
  timeoutMs: number;
}

/**
 * Asks auth-service whether an access token is still active right now (RFC 7662), as this
 * service itself: with a client-credentials token that carries `tokens:introspect`. Local
 * verification trusts a token until it expires; an operation too valuable for that (deleting
 * every note) asks first, and refuses when it cannot ask (fail closed). AuthModule provides it
 * when it has a `client`.
 *
 * @example
 * ```ts
 * if (!(await this.introspection.isActive(token, principal))) throw new UnauthorizedException();
 * ```
 */
export class TokenIntrospectionClient {
  private readonly logger = new Logger(TokenIntrospectionClient.name);

  constructor(
    private readonly options: TokenIntrospectionClientOptions,
    private readonly serviceToken: ServiceTokenProvider,
  ) {}

  /**
   * Whether auth-service calls `token` active and it belongs to `principal`.
   * @throws ServiceUnavailableException (503, Retry-After) when auth-service cannot answer.
   */
  async isActive(token: string, principal: Principal): Promise<boolean> {
    let answer: { active?: unknown; sub?: unknown; iss?: unknown };
    try {
      const response = await fetch(this.options.uri, {
        method: 'POST',
        headers: {
          authorization: await this.serviceToken.authorization(),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) throw new Error(`introspection answered HTTP ${response.status}`);
      answer = (await response.json()) as typeof answer;
    } catch (error) {
      this.logger.warn(
        `Cannot confirm a session with auth-service: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw Object.assign(
        new ServiceUnavailableException(
          'Cannot confirm your session with auth-service right now; try again shortly',
        ),
        { headers: { 'retry-after': '5' } },
      );
    }
    return (
      answer.active === true && answer.sub === principal.subject && answer.iss === principal.issuer
    );
  }
}
