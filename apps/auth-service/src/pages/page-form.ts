import { BadRequestException } from '@nestjs/common';

/** The longest value a page's form or query may carry (a `continue` query included). */
const MAX_LENGTH = 8192;

/**
 * The named fields of a form post or a query, each a string sent at most once; missing or empty
 * ones are absent. 400 for a repeated or oversized field, one with a NUL, or a body that is not a
 * form.
 */
export function readFields<Name extends string>(
  source: unknown,
  names: readonly Name[],
): Partial<Record<Name, string>> {
  if (source !== undefined && (typeof source !== 'object' || source === null)) {
    throw new BadRequestException({
      error: 'invalid_request',
      message: 'Send the form as it was given',
    });
  }
  const fields: Partial<Record<Name, string>> = {};
  for (const name of names) {
    const value = (source as Record<string, unknown> | undefined)?.[name];
    if (value === undefined || value === '') continue;
    // A NUL no browser form can type, and PostgreSQL's text refuses (a 500 if it got there).
    if (typeof value !== 'string' || value.length > MAX_LENGTH || value.includes('\u0000')) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: `The field ${name} is not valid`,
      });
    }
    fields[name] = value;
  }
  return fields;
}

/** A `continue` query string as an authorization query: repeated parameters kept as lists. */
export function queryOf(continueQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(continueQuery)) {
    const existing = query[name];
    query[name] = existing === undefined ? value : ([] as string[]).concat(existing, value);
  }
  return query;
}
