import { Controller, Get } from '@nestjs/common';
import { Public, Scopes } from '@tessera/auth';

const pong = () => ({ pong: true });

/**
 * One answer behind two doors: open, and guarded like a real read (a valid token with
 * `notes:read`). `npm run bench` compares the two to measure what the guard costs; by hand they
 * check connectivity with and without a token.
 */
@Controller('ping')
export class PingController {
  @Public()
  @Get()
  open() {
    return pong();
  }

  @Scopes('notes:read')
  @Get('guarded')
  guarded() {
    return pong();
  }
}
