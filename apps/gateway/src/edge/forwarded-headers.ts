import type { IncomingHttpHeaders } from 'node:http';

/** What the gateway knows of a request that the services may learn from it. */
export interface ForwardedRequest {
  /** The caller's address as the gateway judged it (its own TRUST_PROXY, empty by default). */
  ip: string;
  /** `http` or `https`, as the caller used. */
  protocol: string;
  /** The Host the caller asked for. */
  host: string;
  /** The request id: the caller's when short and plain, else a new one (the platform's rule). */
  id: string;
}

/** RFC 9110 §7.6.1: meaningful for one connection only, never forwarded either way. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * What a client may not tell a service: where the request came from (only the gateway says so),
 * and any header a service could mistake for the gateway's word about the caller (R28). Services
 * believe none of these anyway (they verify the token themselves); stripping them keeps a service
 * that one day does from being fooled.
 */
const FORWARDING =
  /^(forwarded|x-forwarded-.*|x-real-ip|x-client-ip|true-client-ip|cf-connecting-ip|x-cluster-client-ip|x-original-(url|host|forwarded-for))$/;
const INTERNAL =
  /^x-(internal|gateway|user|principal|subject|client-id|scopes?|roles?|identity|authenticated)(-.*)?$/;

/** W3C Trace Context level 1: version 00, a non-zero trace id and parent id. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The headers a service receives: the client's, less hop-by-hop, forwarding and internal ones,
 * plus `X-Forwarded-For/-Proto/-Host` set from what the gateway saw (one address, never the
 * client's list), the request id, and the client's `traceparent` (and `tracestate`) only when it
 * is well formed.
 */
export function forwardedRequestHeaders(
  headers: IncomingHttpHeaders,
  request: ForwardedRequest,
): IncomingHttpHeaders {
  const dropped = connectionNamed(headers);
  const result: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    if (FORWARDING.test(name) || INTERNAL.test(name)) continue;
    if (name === 'x-request-id' || name === 'traceparent' || name === 'tracestate') continue;
    result[name] = value;
  }
  result['x-forwarded-for'] = request.ip;
  result['x-forwarded-proto'] = request.protocol;
  result['x-forwarded-host'] = request.host;
  result['x-request-id'] = request.id;
  const traceparent = headers['traceparent'];
  if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent)) {
    result['traceparent'] = traceparent;
    const tracestate = headers['tracestate'];
    if (typeof tracestate === 'string' && tracestate.length <= 512)
      result['tracestate'] = tracestate;
  }
  return result;
}

/**
 * The headers the client receives from a service: less hop-by-hop ones and CORS, which the
 * gateway answers for the whole origin (CORS_ORIGINS), so that a service's own CORS settings
 * cannot widen it.
 */
export function forwardedResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const dropped = connectionNamed(headers);
  const result: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    if (name.startsWith('access-control-')) continue;
    result[name] = value;
  }
  return result;
}

/** The names a Connection header lists: hop-by-hop too (RFC 9110 §7.6.1). */
function connectionNamed(headers: IncomingHttpHeaders): Set<string> {
  const connection = headers['connection'];
  if (typeof connection !== 'string') return new Set();
  return new Set(connection.split(',').map((name) => name.trim().toLowerCase()));
}
