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

  /**
   * Whole seconds since the epoch, as `exp`, `nbf` and `iat` count them. Read without making a
   * Date (the guard asks on every request) unless `now()` is not this class's own: a test's spy
   * (on the instance or on the prototype) or a subclass is what it says.
   */
  epochSeconds(): number {
    const milliseconds = this.now === OWN_NOW ? Date.now() : this.now().getTime();
    return Math.floor(milliseconds / 1000);
  }
}

/** `Clock.prototype.now` as the class defines it, before anything can replace it. */
const OWN_NOW = Clock.prototype.now;
