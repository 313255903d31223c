export {
  EVENTS_STREAM,
  EVENTS_SUBJECT_PREFIX,
  ensureEventsStream,
  eventSubject,
} from './lib/events/domain-events';
export type { DomainEvents, DomainEventType } from './lib/events/domain-events';
export { TokenIntrospectionClient } from './lib/introspection/token-introspection.client';
export { RevocationFeed } from './lib/revocation/revocation-feed';
export type { RevocationEvent, RevocationSink } from './lib/revocation/revocation-feed';
export { RevocationStream } from './lib/revocation/revocation-stream';
export { bearerMessage } from './lib/messaging/bearer-message';
export type {
  ResolvedServiceClientOptions,
  ServiceClientOptions,
} from './lib/service-token/service-client.options';
export { ServiceTokenError } from './lib/service-token/service-token.errors';
export { ServiceTokenProvider } from './lib/service-token/service-token.provider';
