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

/** Headers that carry credentials, under `req.headers` and `res.headers` of a line. */
const SECRET_HEADERS: Readonly<Record<string, readonly string[]>> = {
  req: ['authorization', 'proxy-authorization', 'cookie', 'x-tessera-csrf'],
  res: ['set-cookie'],
};

/** Every path {@link redactSecrets} replaces, in pino's `redact` notation (`*` is any key). */
export const REDACTED_LOG_PATHS: readonly string[] = [
  ...Object.entries(SECRET_HEADERS).flatMap(([key, names]) =>
    names.map((name) =>
      /^\w+$/.test(name) ? `${key}.headers.${name}` : `${key}.headers["${name}"]`,
    ),
  ),
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
];

export const REDACTED = '[Redacted]';

const SECRET_FIELD_NAMES = new Set(SECRET_FIELDS);

/**
 * `object` with the values at {@link REDACTED_LOG_PATHS} replaced by `[Redacted]`: a secret field
 * at the top or one level down (`body.refresh_token`), and the credential headers of `req` and
 * `res`. The object itself is never changed: what holds a secret is copied, the rest shared, and
 * an object without any is returned as it is. The service logger runs it on every line
 * (formatters), instead of pino's `redact` option, which cost a request about a fifth of its CPU
 * time (docs/performance.md).
 */
export function redactSecrets<T>(object: T): T {
  if (typeof object !== 'object' || object === null) return object;
  const source = object as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in source) {
    if (!Object.prototype.hasOwnProperty.call(source, key)) continue;
    const value = source[key];
    const redacted =
      value === undefined
        ? value
        : SECRET_FIELD_NAMES.has(key)
          ? REDACTED
          : typeof value === 'object' && value !== null
            ? redactNested(value, SECRET_HEADERS[key])
            : value;
    if (redacted !== value) {
      copy ??= { ...source };
      copy[key] = redacted;
    }
  }
  return (copy ?? object) as T;
}

/** A top-level value with its secret fields, and the `headers` named, replaced. */
function redactNested(value: object, headerNames: readonly string[] | undefined): object {
  let copy: Record<string, unknown> | undefined;
  for (const field of SECRET_FIELDS) {
    if (field in value) {
      copy ??= copyOf(value);
      copy[field] = REDACTED;
    }
  }
  const headers = (value as { headers?: unknown }).headers;
  if (headerNames !== undefined && typeof headers === 'object' && headers !== null) {
    let headersCopy: Record<string, unknown> | undefined;
    for (const name of headerNames) {
      if (name in headers) {
        headersCopy ??= copyOf(headers);
        headersCopy[name] = REDACTED;
      }
    }
    if (headersCopy !== undefined) {
      copy ??= copyOf(value);
      copy['headers'] = headersCopy;
    }
  }
  return copy ?? value;
}

/** A writable copy, same prototype and own properties (an Error keeps its message and stack). */
function copyOf(value: object): Record<string, unknown> {
  if (Array.isArray(value)) return Object.assign([], value) as unknown as Record<string, unknown>;
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype === Object.prototype) return { ...(value as Record<string, unknown>) };
  const copy = Object.create(prototype) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, name);
    Object.defineProperty(copy, name, {
      value: (value as Record<string, unknown>)[name],
      enumerable: descriptor?.enumerable ?? true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

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
  const headers: Record<string, unknown> = {};
  const offered = request.headers;
  if (offered !== undefined) {
    for (const name of LOGGED_HEADERS) {
      const value = offered[name];
      if (value !== undefined) headers[name] = value;
    }
  }
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
