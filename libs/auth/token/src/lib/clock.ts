import { Injectable } from '@nestjs/common';

/**
 * The time, injected so that tests move it instead of sleeping. Every check of `exp`, `nbf` and
 * every token issued reads it; nothing that judges a token calls `Date.now()` itself.
 *
 * @example
 * ```ts
 * jest.spyOn(app.get(Clock), 'now').mockReturnValue(new Date('2030-01-01T00:00:00Z'));
 * ```
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
