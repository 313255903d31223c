import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Optional in the body: with REFRESH_TOKEN_COOKIE the token comes in the cookie instead. */
export class RefreshTokenDto {
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @ApiPropertyOptional({
    maxLength: 512,
    description: 'The refresh token; with REFRESH_TOKEN_COOKIE it comes in the cookie instead',
  })
  refresh_token?: string;
}
