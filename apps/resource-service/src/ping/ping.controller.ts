import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { RequireVerifiedEmail } from '@tessera/auth-resource-server';
import { Public, Scopes } from '@tessera/auth-token';

export class Pong {
  @ApiProperty({ example: true })
  pong!: boolean;
}

const pong = (): Pong => ({ pong: true });

/**
 * One answer behind three doors: open, guarded like a real read (a valid token with
 * `notes:read`), and that read for a verified address only. `npm run bench` compares the first
 * two to measure what the guard costs; by hand they check connectivity with and without a token,
 * and the third shows `@RequireVerifiedEmail()` (docs/account-lifecycle.md).
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
}
