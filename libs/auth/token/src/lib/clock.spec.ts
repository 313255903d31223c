import { Clock } from './clock';

describe('Clock', () => {
  const at = new Date('2030-01-01T00:00:10.900Z');
  const seconds = Math.floor(at.getTime() / 1000);
  afterEach(() => jest.restoreAllMocks());

  it('counts whole seconds since the epoch from the real time', () => {
    const before = Math.floor(Date.now() / 1000);
    const read = new Clock().epochSeconds();
    expect(read).toBeGreaterThanOrEqual(before);
    expect(read).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('follows a spy on one clock, and only on that one', () => {
    const moved = new Clock();
    jest.spyOn(moved, 'now').mockReturnValue(at);
    // The time itself elsewhere: a plain clock follows it, the spied one does not.
    jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2040, 0, 1));
    expect(moved.epochSeconds()).toBe(seconds);
    expect(new Clock().epochSeconds()).toBe(Date.UTC(2040, 0, 1) / 1000);
  });

  it('follows a spy on the prototype and a subclass', () => {
    class Fixed extends Clock {
      override now(): Date {
        return at;
      }
    }
    expect(new Fixed().epochSeconds()).toBe(seconds);
    jest.spyOn(Clock.prototype, 'now').mockReturnValue(at);
    expect(new Clock().epochSeconds()).toBe(seconds);
  });
});
