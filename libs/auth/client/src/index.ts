export { TokenIntrospectionClient } from './lib/introspection/token-introspection.client';
export { RevocationFeed } from './lib/revocation/revocation-feed';
export type { RevocationEvent, RevocationSink } from './lib/revocation/revocation-feed';
export type {
  ResolvedServiceClientOptions,
  ServiceClientOptions,
} from './lib/service-token/service-client.options';
export { ServiceTokenError } from './lib/service-token/service-token.errors';
export { ServiceTokenProvider } from './lib/service-token/service-token.provider';
