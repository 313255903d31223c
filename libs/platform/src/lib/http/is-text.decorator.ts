import { ValidateBy } from 'class-validator';
import type { ValidationArguments } from 'class-validator';

export interface TextLimits {
  min: number;
  max: number;
}

/**
 * A string PostgreSQL stores as sent, of `min` to `max` characters counted as PostgreSQL counts
 * them (code points). Not class-validator's Length: it does not count variation selectors, so
 * "❤️" × 101 would pass a 200 limit and varchar(200) would refuse it with a 500. NUL cannot be
 * stored in text at all, and an unpaired surrogate would be silently replaced.
 *
 * @example
 * ```ts
 * @IsText({ min: 1, max: 200 })
 * title!: string;
 * ```
 */
export function IsText(limits: TextLimits): PropertyDecorator {
  return ValidateBy({
    name: 'isText',
    constraints: [limits],
    validator: {
      validate: (value: unknown) => textProblem(value, limits) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'value'} ${textProblem(args?.value, limits) ?? ''}`,
    },
  });
}

const UNPAIRED_SURROGATE = /\p{Surrogate}/u;

function textProblem(value: unknown, { min, max }: TextLimits): string | undefined {
  if (typeof value !== 'string') {
    return min > 0
      ? `must be a string of ${min} to ${max} characters`
      : `must be a string of at most ${max} characters`;
  }
  if (value.includes('\0')) return 'must not contain the NUL character (\\u0000)';
  if (UNPAIRED_SURROGATE.test(value)) return 'must be well-formed Unicode (no unpaired surrogates)';
  const length = [...value].length;
  if (length < min) return min === 1 ? 'must not be empty' : `must be at least ${min} characters`;
  if (length > max) return `must be at most ${max} characters long`;
  return undefined;
}
