import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * The form bodies of the OAuth endpoints (application/x-www-form-urlencoded), for the API docs:
 * readOAuthRequest reads and checks the parameters itself, as RFC 6749 wants them.
 */
class ClientForm {
  @ApiPropertyOptional({
    description:
      'client_secret_post, or a public client naming itself; not with `Authorization: Basic`',
  })
  client_id?: string;

  @ApiPropertyOptional({ description: 'client_secret_post; not with `Authorization: Basic`' })
  client_secret?: string;
}

export class TokenRequestForm extends ClientForm {
  @ApiProperty({ enum: ['refresh_token', 'client_credentials'] })
  grant_type!: string;

  @ApiPropertyOptional({ description: 'grant_type=refresh_token: the refresh token to trade' })
  refresh_token?: string;

  @ApiPropertyOptional({
    description: 'Space-separated; narrower than the session or client may have',
  })
  scope?: string;

  @ApiPropertyOptional({
    description:
      "RFC 8707: an audience the access token is for; repeat the parameter for several. Within the client's audiences (client_credentials; when left out, the client's default ones) or the session's (refresh_token; when left out, all of them). Else `invalid_target`.",
    type: [String],
    maxItems: 20,
    example: ['auth-service'],
  })
  resource?: string[];

  @ApiPropertyOptional({
    description:
      'grant_type=client_credentials: space-separated audiences, the older name of `resource` (not both)',
  })
  audience?: string;
}

export class RevokeRequestForm extends ClientForm {
  @ApiProperty({ description: 'A refresh token (ends its session) or an access token' })
  token!: string;

  @ApiPropertyOptional({
    enum: ['refresh_token', 'access_token'],
    description: 'Accepted and not needed',
  })
  token_type_hint?: string;
}

export class IntrospectRequestForm extends ClientForm {
  @ApiProperty()
  token!: string;

  @ApiPropertyOptional({
    enum: ['refresh_token', 'access_token'],
    description: 'Accepted and not needed',
  })
  token_type_hint?: string;
}
