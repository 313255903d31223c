import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public, Scopes } from '@tessera/auth-token';

export class Pong {
  @ApiProperty({ example: true })
  pong!: boolean;
}

const pong = (): Pong => ({ pong: true });

/**
 * One answer behind two doors: open, and guarded like a real read (a valid token with
 * `notes:read`). `npm run bench` compares the two to measure what the guard costs; by hand they
 * check connectivity with and without a token.
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
}
