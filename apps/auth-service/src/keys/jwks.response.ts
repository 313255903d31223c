import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One public signing key (RFC 7517): EC P-256 (ES256) or RSA (RS256) members. */
export class JwkView {
  @ApiProperty({ enum: ['EC', 'RSA'] })
  kty!: string;

  @ApiProperty()
  kid!: string;

  @ApiProperty({ enum: ['sig'] })
  use!: string;

  @ApiProperty({ enum: ['ES256', 'RS256'] })
  alg!: string;

  @ApiPropertyOptional({ enum: ['P-256'], description: 'EC keys' })
  crv?: string;

  @ApiPropertyOptional({ description: 'EC keys' })
  x?: string;

  @ApiPropertyOptional({ description: 'EC keys' })
  y?: string;

  @ApiPropertyOptional({ description: 'RSA keys' })
  n?: string;

  @ApiPropertyOptional({ description: 'RSA keys' })
  e?: string;
}

/** What `GET /.well-known/jwks.json` answers. */
export class JwksResponse {
  @ApiProperty({ type: [JwkView] })
  keys!: JwkView[];
}
