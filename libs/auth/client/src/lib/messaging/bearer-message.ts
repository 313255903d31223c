import type * as Microservices from '@nestjs/microservices';
import type { NatsRecord } from '@nestjs/microservices';
import type * as Nats from 'nats';

/**
 * A NATS message for `ClientProxy.send()` or `emit()` that carries an access token in its
 * `authorization` header, as an HTTP request does: the caller's service token (from
 * `ServiceTokenProvider`) or, for a call made on a user's behalf, the user's own token. The
 * receiving service's guard verifies it like a bearer token on a route.
 *
 * @example
 * ```ts
 * const token = await serviceToken.token();
 * const count = await lastValueFrom(client.send('notes.count', bearerMessage({ owner }, token)));
 * ```
 */
export function bearerMessage<T>(data: T, token: string): NatsRecord<T> {
  // Required here, not at the top: only a service that sends messages loads the NATS client.
  const { NatsRecordBuilder } = require('@nestjs/microservices') as typeof Microservices;
  const { headers } = require('nats') as typeof Nats;
  const messageHeaders = headers();
  messageHeaders.set('authorization', `Bearer ${token}`);
  return new NatsRecordBuilder<T>(data).setHeaders(messageHeaders).build();
}
