import type { CustomTransportStrategy } from '@nestjs/microservices';
import type * as JetStream from './jetstream-event.server';
import type { JetStreamEventServerOptions } from './jetstream-event.server';

/**
 * A {@link JetStream.JetStreamEventServer} for MESSAGE_TRANSPORTS: `@EventPattern()` handlers fed
 * by a durable consumer of a JetStream stream. The transport, @nestjs/microservices and the NATS
 * client are loaded by this call only, so a service without NATS_URL never loads them.
 *
 * @example
 * ```ts
 * {
 *   provide: MESSAGE_TRANSPORTS,
 *   inject: [ordersConfig.KEY],
 *   useFactory: (environment) => environment.NATS_URL === undefined ? [] : [
 *     createJetStreamEventServer({ servers: environment.NATS_URL, stream: 'TESSERA_EVENTS', subjectPrefix: 'tessera.events.', durable: 'orders-service' }),
 *   ],
 * }
 * ```
 */
export function createJetStreamEventServer(
  options: JetStreamEventServerOptions,
): CustomTransportStrategy {
  const { JetStreamEventServer } = require('./jetstream-event.server') as typeof JetStream;
  return new JetStreamEventServer(options);
}
