import { PasswordPolicy } from './password-policy';
import { WeakPasswordException } from './users.errors';

describe('PasswordPolicy', () => {
  const policy = new PasswordPolicy();

  it('accepts an 8-character password and a 64-character one', () => {
    expect(policy.problemWith('tangerine'.slice(0, 8))).toBeUndefined();
    expect(
      policy.problemWith('correct horse battery staple '.repeat(3).slice(0, 64)),
    ).toBeUndefined();
  });

  it('accepts a 256-character password and refuses a 257-character one, never truncating it', () => {
    expect(policy.problemWith('x1'.repeat(128))).toBeUndefined();
    expect(policy.problemWith('x1'.repeat(128) + 'y')).toBe(
      'Password must be at most 256 characters long (it has 257)',
    );
  });

  it('refuses a 7-character password and says how long it must be', () => {
    expect(policy.problemWith('kiwi-77')).toMatch(
      /^Password must be at least 8 characters long \(it has 7\)/,
    );
  });

  it('counts code points after NFC normalisation, not UTF-16 units or decomposed accents', () => {
    // Seven emoji are 14 UTF-16 units but 7 characters.
    expect(policy.problemWith('🦊🦊🦊🦊🦊🦊🦊')).toMatch(/it has 7/);
    // "é" typed as e + combining accent (two code points) is one character once composed.
    expect(policy.problemWith('abcde\u0301fg')).toMatch(/it has 7/);
    expect(policy.problemWith('abcde\u0301fgh')).toBeUndefined();
  });

  it('needs no digits, capitals or symbols', () => {
    expect(policy.problemWith('purple monkey dishwasher')).toBeUndefined();
  });

  it.each(['password', 'PASSWORD', 'Password1', 'qwerty123', 'iloveyou', '12345678', 'P@ssw0rd'])(
    'refuses the common password %s whatever its case',
    (password) => {
      expect(policy.problemWith(password)).toBe(
        'This password is one of the most common ones and would be guessed quickly; choose another',
      );
    },
  );

  it('refuses the email address as the password', () => {
    expect(policy.problemWith('Ada@Example.com', 'ada@example.com')).toBe(
      'Password must not be your email address',
    );
  });

  it('throws a 400 carrying the message when enforced', () => {
    expect(() => policy.enforce('short')).toThrow(WeakPasswordException);
    expect(() => policy.enforce('short')).toThrow(/at least 8 characters/);
  });
});
