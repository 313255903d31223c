import type { FastifyRequest } from 'fastify';
import type { ClientCredentials } from '../clients/clients.service';
import { OAuthException } from './oauth.exception';

/** An OAuth endpoint's request, read as RFC 6749 wants it: form parameters and client credentials. */
export interface OAuthRequest {
  /**
   * Each parameter once (a repeated one is refused, I1), but the repeatable ones; empty values
   * count as absent.
   */
  params: Record<string, string>;
  /** RFC 8707 `resource`, which may be repeated: every value, in order; empty when absent. */
  resources: string[];
  /** From `Authorization: Basic` (client_secret_basic) or the form (client_secret_post, or a public client's client_id). */
  credentials?: ClientCredentials;
  /** Whether the client authenticated with the Authorization header, so a 401 must carry `WWW-Authenticate: Basic`. */
  viaHeader: boolean;
  /** A bearer token in the Authorization header (RFC 7662 lets a resource server introspect with one). */
  bearer?: string;
}

/** The parameters a request may repeat (RFC 8707 §2: `resource`). */
const REPEATABLE = new Set(['resource']);
const MAX_REPEATS = 20;

const FORM = /^application\/x-www-form-urlencoded(\s*;.*)?$/i;
const MAX_PARAMETER_LENGTH = 8192;

/**
 * Reads the form parameters and the client's credentials.
 *
 * @throws OAuthException `invalid_request` for another content type, a repeated or oversized
 *   parameter, a malformed Basic header, or two authentication methods at once.
 */
export function readOAuthRequest(request: FastifyRequest): OAuthRequest {
  if (!FORM.test(request.headers['content-type'] ?? '')) {
    throw new OAuthException(
      'invalid_request',
      'Send the parameters as application/x-www-form-urlencoded',
    );
  }
  const { params, resources } = formParameters(request.body);
  const authorization = request.headers.authorization;
  const basic = authorization === undefined ? undefined : basicCredentials(authorization);
  const bearer = authorization?.match(/^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i)?.[1];
  if (
    basic &&
    (params['client_secret'] !== undefined ||
      (params['client_id'] !== undefined && params['client_id'] !== basic.clientId))
  ) {
    throw new OAuthException(
      'invalid_request',
      'Authenticate the client one way only: the Authorization header or the form',
    );
  }
  const posted =
    params['client_id'] === undefined
      ? undefined
      : {
          clientId: params['client_id'],
          ...(params['client_secret'] !== undefined && { secret: params['client_secret'] }),
        };
  return {
    params,
    resources,
    credentials: basic ?? posted,
    viaHeader: basic !== undefined,
    ...(bearer && { bearer }),
  };
}

function formParameters(body: unknown): { params: Record<string, string>; resources: string[] } {
  const params: Record<string, string> = {};
  const resources: string[] = [];
  if (typeof body !== 'object' || body === null) return { params, resources };
  for (const [name, value] of Object.entries(body)) {
    if (REPEATABLE.has(name)) {
      const values = ([] as unknown[]).concat(value);
      if (values.length > MAX_REPEATS)
        throw new OAuthException('invalid_request', `${name} is repeated too often`);
      for (const item of values) {
        if (typeof item !== 'string' || item === '') continue;
        if (item.length > MAX_PARAMETER_LENGTH)
          throw new OAuthException('invalid_request', `${name} is too long`);
        resources.push(item);
      }
      continue;
    }
    if (Array.isArray(value))
      throw new OAuthException(
        'invalid_request',
        `${name.slice(0, 64)} is repeated: send each parameter once`,
      );
    if (typeof value !== 'string') continue;
    if (value.length > MAX_PARAMETER_LENGTH)
      throw new OAuthException('invalid_request', `${name.slice(0, 64)} is too long`);
    if (value !== '') params[name] = value;
  }
  return { params, resources };
}

/** RFC 6749 §2.3.1: base64 of `id:secret`, each form-urlencoded first. Undefined when not Basic. */
function basicCredentials(header: string): ClientCredentials | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
  if (!match) {
    if (/^Basic\b/i.test(header))
      throw new OAuthException('invalid_request', 'The Basic credentials are malformed');
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0)
    throw new OAuthException('invalid_request', 'The Basic credentials are malformed');
  try {
    const clientId = formDecode(decoded.slice(0, separator));
    const secret = formDecode(decoded.slice(separator + 1));
    return { clientId, secret };
  } catch {
    throw new OAuthException('invalid_request', 'The Basic credentials are malformed');
  }
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}
