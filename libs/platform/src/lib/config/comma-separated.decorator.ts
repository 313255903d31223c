import { Transform } from 'class-transformer';

/**
 * Reads a variable as a comma-separated list, each item trimmed, empty items dropped:
 * `a, b,,c` → `['a', 'b', 'c']`. Combine with `@Matches(…, { each: true })` for the items.
 *
 * @example
 * ```ts
 * @CommaSeparated()
 * @Matches(/^https?:\/\/[^/]+$/, { each: true, message: 'must be origins' })
 * CORS_ORIGINS: string[] = [];
 * ```
 */
export function CommaSeparated(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : value,
  );
}
