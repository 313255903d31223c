import { ValidateBy } from 'class-validator';
import type { ValidationOptions } from 'class-validator';

/** `postgres://` or `postgresql://` with a host and a database name, as `pg` accepts it. */
export function isPostgresUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'postgres:' || url.protocol === 'postgresql:') &&
      url.hostname !== '' &&
      url.pathname.length > 1
    );
  } catch {
    return false;
  }
}

export function IsPostgresUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPostgresUrl',
      validator: {
        validate: isPostgresUrl,
        defaultMessage: () =>
          'must be a PostgreSQL URL such as postgres://user:password@host:5432/database',
      },
    },
    options,
  );
}
