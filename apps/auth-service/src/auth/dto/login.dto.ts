import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ResourceField } from './resource.field';

export class LoginDto {
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  email!: string;

  // Only a bound: the policy applies at registration, and a login must not reveal it.
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  @ApiProperty({
    minLength: 1,
    maxLength: 1024,
    format: 'password',
    example: 'correct horse battery staple',
  })
  password!: string;

  /**
   * Space-separated; narrower than the client's scopes. Defaults to all of them but `openid`,
   * `email` and `admin`, which are granted only when asked for (`admin` needs the admin role).
   */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @Matches(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, {
    message: 'scope must be space-separated scope names (RFC 6749 section 3.3)',
  })
  @ApiPropertyOptional({
    maxLength: 1000,
    description:
      "Space-separated, within the client's scopes; when left out, all of them but `openid`, `email` and `admin`, which are granted only when asked for (`admin` only to a user with the `admin` role)",
    example: 'notes:read notes:write',
  })
  scope?: string;

  @ResourceField(
    "The audiences the access token is for, within the client's: `auth-service` for the account and admin APIs, a resource service's id for its API. When left out, the client's default audiences, which never include `auth-service`.",
  )
  resource?: string[];
}
