import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { RequestContext } from '../auth/auth.service';
import type { Client } from '../clients/client.entity';
import { ClientsService } from '../clients/clients.service';
import { OAuthException } from './oauth.exception';
import type { OAuthRequest } from './oauth-request';

/**
 * Client authentication for the OAuth endpoints (RFC 6749 §2.3): `client_secret_basic`,
 * `client_secret_post`, or a public client naming itself. A failure is 401 `invalid_client`
 * (with `WWW-Authenticate: Basic` when the header was used) and an audit row, never a hint of
 * which part was wrong.
 */
@Injectable()
export class ClientAuthenticator {
  constructor(
    private readonly clients: ClientsService,
    private readonly audit: AuditService,
  ) {}

  async authenticate(
    request: OAuthRequest,
    endpoint: string,
    context: RequestContext,
    options: { allowPublic: boolean },
  ): Promise<Client> {
    const client = request.credentials
      ? await this.clients.authenticate(request.credentials)
      : null;
    if (client && (options.allowPublic || client.type === 'confidential')) return client;
    await this.audit.record({
      type: 'client.authentication_failed',
      ...context,
      detail: {
        endpoint,
        client_id: request.credentials?.clientId.slice(0, 64) ?? null,
        reason: !request.credentials
          ? 'no_credentials'
          : client
            ? 'public_client'
            : 'bad_credentials',
      },
    });
    throw new OAuthException(
      'invalid_client',
      'Client authentication failed',
      request.viaHeader ? 'Basic realm="tessera"' : undefined,
    );
  }
}
