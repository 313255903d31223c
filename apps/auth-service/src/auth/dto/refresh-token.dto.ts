import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { ResourceField } from './resource.field';

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

/** `POST /auth/refresh`: the refresh token, and the audiences the new access token is for. */
export class RefreshRequestDto extends RefreshTokenDto {
  @ResourceField(
    "The audiences the new access token is for, within the session's (the login's). When left out, all of the session's.",
  )
  resource?: string[];
}
