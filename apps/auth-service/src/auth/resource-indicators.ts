/**
 * RFC 8707 resource indicators. A token's audiences (`aud`) are service ids from the registry
 * (`auth-service`, `resource-service`, …), and `resource` names them as they are: auth-service
 * takes the ids, not URLs.
 */

/** How many `resource` values one request may name. */
export const MAX_RESOURCES = 20;

/** One `resource` value: 1 to 128 visible ASCII characters, no spaces. */
export const RESOURCE = /^[\x21-\x7E]{1,128}$/;

/**
 * The audiences to grant: the requested ones (duplicates collapse, order is kept) if every one
 * is allowed, or `otherwise` without a request; undefined if one is not allowed or none is left.
 */
export function grantedAudiences(
  requested: readonly string[] | undefined,
  allowed: readonly string[],
  otherwise: readonly string[],
): string[] | undefined {
  const audiences = [...new Set(requested ?? otherwise)];
  return audiences.length > 0 && audiences.every((audience) => allowed.includes(audience))
    ? audiences
    : undefined;
}

/** "a b c", or "(none)", for error messages. */
export function listed(audiences: readonly string[]): string {
  return audiences.length > 0 ? audiences.join(' ') : '(none)';
}
