import { Module } from '@nestjs/common';
import { Clock } from '@tessera/auth-token';

/**
 * One Clock for the whole service, the one AccessTokenVerifier reads too: every module that reads
 * the time imports this one, and tests move it with `jest.spyOn(app.get(Clock), 'now')`.
 */
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
