import { ACR_MULTI_FACTOR, ACR_SINGLE_FACTOR } from '@tessera/auth-token';
import { grantedScope } from '../auth/first-party-client';
import { grantedAudiences, listed, MAX_RESOURCES, RESOURCE } from '../auth/resource-indicators';
import type { Client } from '../clients/client.entity';
import { AuthorizationPageError, AuthorizationRedirectError } from './authorization.errors';
import { S256_CHALLENGE } from './pkce';

/** `prompt` values (OpenID Connect Core §3.1.2.1) this server honours. */
export type Prompt = 'none' | 'login' | 'consent';
const PROMPTS: readonly string[] = ['none', 'login', 'consent'];
/** The `acr` values this server issues, weakest first (`acr_values_supported`). */
export const ACR_VALUES: readonly string[] = [ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR];

/** The query of `GET /oauth/authorize`, each parameter once but `resource`. */
export type AuthorizationQuery = Record<string, string | string[] | undefined>;

/** Where the browser goes back to, and what it must carry; known once the redirect URI is. */
export interface AuthorizationTarget {
  client: Client;
  redirectUri: string;
  state?: string;
}

/** An authorization request that passed every check: what a code would be bound to. */
export interface AuthorizationRequest extends AuthorizationTarget {
  /** The granted scopes, space-separated. */
  scope: string;
  audiences: string[];
  codeChallenge: string;
  nonce?: string;
  prompts: Prompt[];
  maxAge?: number;
  /**
   * The least `acr` that meets `acr_values`: the weakest of its values this server knows
   * (ACR_VALUES); absent when it names none of them or is not sent.
   */
  acr?: string;
  loginHint?: string;
}

const MAX_LENGTH = 2048;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

/**
 * Reads who the request is for and where the answer goes. Only an exact, registered redirect
 * URI of a known client that may use the flow is ever redirected to (A2); the string is compared
 * as sent, so a prefix, an extra path, another port, a fragment or a user-info trick is simply
 * not registered.
 *
 * @throws AuthorizationPageError when there is nowhere safe to send an error
 */
export async function readTarget(
  query: AuthorizationQuery,
  findClient: (id: string) => Promise<Client | null>,
): Promise<AuthorizationTarget> {
  const clientId = single(query, 'client_id', (message) => new AuthorizationPageError(message));
  if (clientId === undefined) throw new AuthorizationPageError('The request names no client_id');
  const client = await findClient(clientId);
  if (!client || !client.grantTypes.includes('authorization_code')) {
    throw new AuthorizationPageError('The client is not known to this server');
  }
  const redirectUri = single(
    query,
    'redirect_uri',
    (message) => new AuthorizationPageError(message),
  );
  if (redirectUri === undefined) {
    throw new AuthorizationPageError('The request names no redirect_uri');
  }
  if (!client.redirectUris.includes(redirectUri)) {
    throw new AuthorizationPageError('The redirect_uri is not registered for this client');
  }
  // A repeated or oversized state is not echoed (it cannot be read as one);
  // readAuthorizationRequest then refuses it.
  const sent = query['state'];
  const state =
    typeof sent === 'string' && sent !== '' && sent.length <= MAX_LENGTH ? sent : undefined;
  return { client, redirectUri, ...(state !== undefined && { state }) };
}

/**
 * Checks the rest of the request against the client (A1, A4; RFC 8707 `resource`).
 * @throws AuthorizationRedirectError, to be sent to the target's redirect URI
 */
export function readAuthorizationRequest(
  query: AuthorizationQuery,
  target: AuthorizationTarget,
): AuthorizationRequest {
  const { client } = target;
  if (query['request'] !== undefined) {
    throw new AuthorizationRedirectError(
      'request_not_supported',
      'Request objects are not supported',
    );
  }
  if (query['request_uri'] !== undefined) {
    throw new AuthorizationRedirectError(
      'request_uri_not_supported',
      'request_uri is not supported',
    );
  }
  optional(query, 'state');
  const responseType = required(query, 'response_type');
  if (responseType !== 'code') {
    throw new AuthorizationRedirectError(
      'unsupported_response_type',
      'response_type must be code: no other flow is offered',
    );
  }
  const method = optional(query, 'code_challenge_method');
  const codeChallenge = optional(query, 'code_challenge');
  if (codeChallenge === undefined) {
    throw new AuthorizationRedirectError(
      'invalid_request',
      'PKCE is required: send code_challenge with code_challenge_method=S256',
    );
  }
  if (method !== 'S256') {
    throw new AuthorizationRedirectError(
      'invalid_request',
      'code_challenge_method must be S256 (plain is not accepted)',
    );
  }
  if (!S256_CHALLENGE.test(codeChallenge)) {
    throw new AuthorizationRedirectError(
      'invalid_request',
      'code_challenge must be 43 base64url characters (RFC 7636 §4.2)',
    );
  }
  const requestedScope = optional(query, 'scope');
  if (requestedScope !== undefined && !SCOPE.test(requestedScope)) {
    throw new AuthorizationRedirectError(
      'invalid_scope',
      'scope must be space-separated scope names',
    );
  }
  const scope = grantedScope(requestedScope, client.scopes);
  if (scope === undefined || scope === '') {
    throw new AuthorizationRedirectError(
      'invalid_scope',
      `scope may only include: ${client.scopes.join(' ')}`,
    );
  }
  const audiences = grantedAudiences(resources(query), client.audiences, client.defaultAudiences);
  if (audiences === undefined) {
    throw new AuthorizationRedirectError(
      'invalid_target',
      `resource may only name: ${listed(client.audiences)}`,
    );
  }
  const prompts = readPrompts(optional(query, 'prompt'));
  const maxAge = readMaxAge(optional(query, 'max_age'));
  const acr = leastAcr(optional(query, 'acr_values'));
  const nonce = optional(query, 'nonce');
  const loginHint = optional(query, 'login_hint');
  return {
    ...target,
    scope,
    audiences,
    codeChallenge,
    prompts,
    ...(nonce !== undefined && { nonce }),
    ...(maxAge !== undefined && { maxAge }),
    ...(acr !== undefined && { acr }),
    ...(loginHint !== undefined && { loginHint: loginHint.slice(0, 254) }),
  };
}

function readPrompts(value: string | undefined): Prompt[] {
  if (value === undefined) return [];
  const prompts = [...new Set(value.split(' '))];
  if (!prompts.every((prompt) => PROMPTS.includes(prompt))) {
    throw new AuthorizationRedirectError(
      'invalid_request',
      `prompt may only be ${PROMPTS.join(', ')}`,
    );
  }
  if (prompts.includes('none') && prompts.length > 1) {
    throw new AuthorizationRedirectError('invalid_request', 'prompt=none goes with no other value');
  }
  return prompts as Prompt[];
}

function readMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) {
    throw new AuthorizationRedirectError(
      'invalid_request',
      'max_age must be a whole number of seconds',
    );
  }
  return Number(value);
}

/**
 * `acr_values` lists the classes the client would take, most preferred first (OpenID Connect Core
 * §3.1.2.1); any of them is acceptable, so the weakest known one is what the sign-in must reach.
 * Values this server does not issue are ignored, as a voluntary claim request allows.
 */
function leastAcr(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const requested = value.split(' ');
  return ACR_VALUES.find((acr) => requested.includes(acr));
}

function resources(query: AuthorizationQuery): string[] | undefined {
  const value = query['resource'];
  if (value === undefined) return undefined;
  const values = ([] as string[]).concat(value).filter((item) => item !== '');
  if (values.length > MAX_RESOURCES || !values.every((item) => RESOURCE.test(item))) {
    throw new AuthorizationRedirectError(
      'invalid_target',
      'resource must name registered audiences',
    );
  }
  return values.length > 0 ? values : undefined;
}

function required(query: AuthorizationQuery, name: string): string {
  const value = optional(query, name);
  if (value === undefined)
    throw new AuthorizationRedirectError('invalid_request', `${name} is required`);
  return value;
}

function optional(query: AuthorizationQuery, name: string): string | undefined {
  return single(
    query,
    name,
    (message) => new AuthorizationRedirectError('invalid_request', message),
  );
}

/** A parameter sent at most once (RFC 6749 §3.1), non-empty, of a sane length, without a NUL. */
function single(
  query: AuthorizationQuery,
  name: string,
  refuse: (message: string) => Error,
): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw refuse(`${name} is repeated: send each parameter once`);
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_LENGTH) throw refuse(`${name} is too long`);
  // PostgreSQL's text refuses a NUL (the nonce is stored with the code): refused here, not a 500.
  if (value.includes('\u0000')) throw refuse(`${name} may not contain a NUL`);
  return value;
}
