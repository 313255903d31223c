import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** RFC 6749 §5.2: how the OAuth endpoints answer an error, instead of the house shape. */
export class OAuthErrorResponse {
  @ApiProperty({
    enum: [
      'invalid_request',
      'invalid_client',
      'invalid_grant',
      'unauthorized_client',
      'unsupported_grant_type',
      'invalid_scope',
      'invalid_target',
      'invalid_token',
    ],
  })
  error!: string;

  @ApiProperty({ example: 'grant_type is required' })
  error_description!: string;
}

/** RFC 7662 §2.2: `{ active: false }` alone for any token that is not live. */
export class IntrospectionResponse {
  @ApiProperty()
  active!: boolean;

  @ApiPropertyOptional({ enum: ['Bearer', 'refresh_token'] })
  token_type?: string;

  @ApiPropertyOptional()
  scope?: string;

  @ApiPropertyOptional()
  client_id?: string;

  @ApiPropertyOptional()
  sub?: string;

  @ApiPropertyOptional({ description: 'Seconds since the epoch' })
  exp?: number;

  @ApiPropertyOptional({ description: 'Seconds since the epoch' })
  iat?: number;

  @ApiPropertyOptional()
  iss?: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
  })
  aud?: string | string[];

  @ApiPropertyOptional()
  jti?: string;

  @ApiPropertyOptional()
  sid?: string;
}

/** RFC 8414 authorization-server metadata (also OpenID Connect Discovery 1.0). */
export class ServerMetadataResponse {
  @ApiProperty({ example: 'http://127.0.0.1:3001' })
  issuer!: string;

  @ApiProperty({ description: 'GET: response_type=code with PKCE S256 (RFC 6749 §4.1)' })
  authorization_endpoint!: string;

  @ApiProperty()
  token_endpoint!: string;

  @ApiProperty({ description: 'OpenID Connect RP-Initiated Logout 1.0' })
  end_session_endpoint!: string;

  @ApiProperty()
  jwks_uri!: string;

  @ApiProperty()
  revocation_endpoint!: string;

  @ApiProperty()
  introspection_endpoint!: string;

  @ApiProperty()
  userinfo_endpoint!: string;

  @ApiProperty({ type: [String] })
  grant_types_supported!: string[];

  @ApiProperty({ type: [String], example: ['code'] })
  response_types_supported!: string[];

  @ApiProperty({ type: [String], example: ['query'] })
  response_modes_supported!: string[];

  @ApiProperty({ type: [String], example: ['S256'] })
  code_challenge_methods_supported!: string[];

  @ApiProperty({ description: 'RFC 9207: every authorization response carries `iss`' })
  authorization_response_iss_parameter_supported!: boolean;

  @ApiProperty({ type: [String], example: ['none', 'login', 'consent'] })
  prompt_values_supported!: string[];

  @ApiProperty({
    type: [String],
    example: ['urn:tessera:acr:sfa', 'urn:tessera:acr:mfa'],
    description:
      '`acr_values` the authorization endpoint honours: `…:mfa` asks for a second factor',
  })
  acr_values_supported!: string[];

  @ApiProperty({ type: [String] })
  token_endpoint_auth_methods_supported!: string[];

  @ApiProperty({ type: [String] })
  revocation_endpoint_auth_methods_supported!: string[];

  @ApiProperty({ type: [String] })
  introspection_endpoint_auth_methods_supported!: string[];

  @ApiProperty({ type: [String] })
  scopes_supported!: string[];

  @ApiProperty({ type: [String] })
  subject_types_supported!: string[];

  @ApiProperty({ type: [String] })
  id_token_signing_alg_values_supported!: string[];

  @ApiProperty({ type: [String] })
  claims_supported!: string[];
}

/** OpenID Connect Core §5.3.2. */
export class UserInfoResponse {
  @ApiProperty({ format: 'uuid' })
  sub!: string;

  @ApiPropertyOptional({ format: 'email', description: 'With the `email` scope' })
  email?: string;

  @ApiPropertyOptional({ description: 'With the `email` scope' })
  email_verified?: boolean;
}
