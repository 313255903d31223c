import type { HttpException } from '@nestjs/common';
import type * as Microservices from '@nestjs/microservices';
import type { RpcException } from '@nestjs/microservices';
import type { Principal } from '@tessera/auth-token';
import { ambiguousBearerToken } from '../http/bearer-challenge';

/** The part of a NATS message's headers (`MsgHdrs` of the nats package) the guard reads. */
interface MessageHeaders {
  values(name: string, match?: number): string[];
}

/** An RPC context that carries message headers: NatsContext, and the JetStream transport's. */
interface HeaderContext {
  getHeaders(): MessageHeaders | undefined;
}

/** nats' `Match.IgnoreCase`: header names are case-insensitive, as in HTTP. */
const IGNORE_CASE = 2;
const BEARER = /^Bearer +/i;

/** The principal admitted for each message, by its RPC context object, for `@CurrentPrincipal()`. */
const principals = new WeakMap<object, Principal>();

/**
 * The bearer token of a message from its `authorization` header (`Bearer <token>`), as an HTTP
 * request carries it; undefined when there is none. Two `authorization` headers are refused
 * (400 `invalid_request`, as R5 refuses a token sent two ways).
 */
export function messageBearerTokenOf(rpcContext: unknown): string | undefined {
  const headers = (rpcContext as Partial<HeaderContext> | undefined)?.getHeaders?.();
  const values = headers?.values('authorization', IGNORE_CASE) ?? [];
  if (values.length > 1) throw ambiguousBearerToken();
  const header = values[0];
  const scheme = header === undefined ? null : BEARER.exec(header);
  if (header === undefined || scheme === null) return undefined;
  return header.slice(scheme[0].length).trimEnd();
}

/**
 * The guard's HTTP answer as an RpcException, so that a message handler's caller reads the codes
 * a route's caller reads: the status, the RFC 6750 error code of the challenge as `error`
 * (`invalid_token`, `insufficient_scope`, `invalid_request`; `Unauthorized` when no token was
 * sent, as the bare `Bearer` challenge says), the same message, and the challenge itself.
 *
 * @example `{ statusCode: 403, error: 'insufficient_scope', message: 'This needs the scope notes:write', challenge: 'Bearer error="insufficient_scope", scope="notes:write"' }`
 */
export function toRpcException(exception: HttpException): RpcException {
  // Only a message handler gets here, so only a service with a message transport loads it.
  const { RpcException } = require('@nestjs/microservices') as typeof Microservices;
  const response = exception.getResponse();
  const body = typeof response === 'string' ? { message: response } : response;
  const challenge = (exception as HttpException & { headers?: Record<string, string> }).headers?.[
    'www-authenticate'
  ];
  const code = challenge === undefined ? undefined : /error="([^"]+)"/.exec(challenge)?.[1];
  return new RpcException({
    ...body,
    statusCode: exception.getStatus(),
    ...(code !== undefined && { error: code }),
    ...(challenge !== undefined && { challenge }),
  });
}

export function setMessagePrincipal(rpcContext: object, principal: Principal): void {
  principals.set(rpcContext, principal);
}

export function messagePrincipalOf(rpcContext: object): Principal | undefined {
  return principals.get(rpcContext);
}
