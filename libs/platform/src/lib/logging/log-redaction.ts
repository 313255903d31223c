/**
 * What never reaches a log line (R27). Request bodies are not logged at all and request headers
 * only from an allow-list (see {@link serializeRequest}); these paths are the second net, for the
 * objects code hands the logger itself (`logger.warn({ ... })`) and for anyone who widens the
 * allow-list.
 */
const SECRET_FIELDS = [
  'password',
  'current_password',
  'new_password',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'token',
  'authorization',
  'cookie',
];

export const REDACTED_LOG_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-tessera-csrf"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
];

/** Request headers worth a log line, none of which carries a credential. */
const LOGGED_HEADERS = [
  'host',
  'user-agent',
  'content-type',
  'content-length',
  'accept',
  'x-forwarded-for',
];

/** The part of pino's request object the serializer reads. */
export interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  remoteAddress?: string;
}

/**
 * The request as logged: method, path, the query's parameter names (never their values: a client
 * may put `access_token=…` there, R4), a few harmless headers, and where it came from.
 */
export function serializeRequest(request: SerializedRequest): Record<string, unknown> {
  const headers = Object.fromEntries(
    LOGGED_HEADERS.filter((name) => request.headers?.[name] !== undefined).map((name) => [
      name,
      request.headers?.[name],
    ]),
  );
  return {
    id: request.id,
    method: request.method,
    url: withoutQueryValues(request.url ?? ''),
    headers,
    remoteAddress: request.remoteAddress,
  };
}

/** `/notes?limit=5&access_token=abc` → `/notes?limit&access_token`. */
export function withoutQueryValues(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const names = url
    .slice(start + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => safeDecode(pair.split('=')[0] ?? ''));
  return `${url.slice(0, start)}?${names.join('&')}`;
}

function safeDecode(name: string): string {
  try {
    return encodeURIComponent(decodeURIComponent(name));
  } catch {
    return encodeURIComponent(name);
  }
}
