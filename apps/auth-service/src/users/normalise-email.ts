/**
 * The one spelling of an email that is stored, looked up and throttled on. The users table
 * checks the same rule (email = lower(btrim(email))), so the unique index cannot be bypassed.
 */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
