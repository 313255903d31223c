import { IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  // Only a bound: the policy applies at registration, and a login must not reveal it.
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;

  /** Space-separated; narrower than the client's scopes. Defaults to all of them. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @Matches(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, {
    message: 'scope must be space-separated scope names (RFC 6749 section 3.3)',
  })
  scope?: string;
}
