import { Injectable } from '@nestjs/common';

/**
 * The time, injected so tests can move it instead of sleeping:
 * `jest.spyOn(app.get(Clock), 'now').mockReturnValue(later)`.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
