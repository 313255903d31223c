import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { RequireAuthentication, RequireVerifiedEmail } from '@tessera/auth-resource-server';
import { ACR_MULTI_FACTOR, Public, Scopes } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';

export class Pong {
  @ApiProperty({ example: true })
  pong!: boolean;
}

const pong = (): Pong => ({ pong: true });

/**
 * One answer behind four doors: open, guarded like a real read (a valid token with
 * `notes:read`), and that read for a verified address only, or for a sign-in with a second
 * factor. `npm run bench` compares the first two to measure what the guard costs; by hand they
 * check connectivity with and without a token, the third shows `@RequireVerifiedEmail()`
 * (docs/account-lifecycle.md) and the fourth `@RequireAuthentication()` asking for an `acr`
 * (docs/second-factors.md).
 */
@ApiTags('ping')
@Controller('ping')
export class PingController {
  @ApiOperation({ summary: 'Answers without a token' })
  @ApiOkResponse({ type: Pong })
  @Public()
  @Get()
  open(): Pong {
    return pong();
  }

  @ApiOperation({ summary: 'Answers a valid token with notes:read' })
  @ApiOkResponse({ type: Pong })
  @Scopes('notes:read')
  @Get('guarded')
  guarded(): Pong {
    return pong();
  }

  @ApiOperation({
    summary: 'Answers a valid token with notes:read whose user has verified their address',
  })
  @ApiOkResponse({ type: Pong })
  @Scopes('notes:read')
  @RequireVerifiedEmail()
  @Get('verified')
  verified(): Pong {
    return pong();
  }

  @ApiOperation({
    summary: 'Answers a valid token with notes:read from a sign-in with a second factor',
  })
  @ApiOkResponse({ type: Pong })
  @ApiErrors({
    status: 401,
    description:
      'Also `insufficient_user_authentication` (RFC 9470, `acr_values="urn:tessera:acr:mfa"`): the sign-in behind the token had no second factor; sign in with one',
  })
  @Scopes('notes:read')
  @RequireAuthentication({ acr: ACR_MULTI_FACTOR })
  @Get('second-factor')
  secondFactor(): Pong {
    return pong();
  }
}
