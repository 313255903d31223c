import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Optional in the body: with REFRESH_TOKEN_COOKIE the token comes in the cookie instead. */
export class RefreshTokenDto {
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refresh_token?: string;
}
