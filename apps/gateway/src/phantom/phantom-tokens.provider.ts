import type { Provider } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ServiceTokenProvider } from '@tessera/auth-client';
import { gatewayConfig } from '../config/gateway.config';
import { PhantomTokens } from './phantom-tokens';

/** The gateway's PhantomTokens with ACCESS_TOKEN_FORMAT=reference; null otherwise. */
export const PHANTOM_TOKENS = Symbol('PHANTOM_TOKENS');

/** Milliseconds one introspection may take before the edge answers 503. */
const INTROSPECTION_TIMEOUT_MS = 5_000;

export const phantomTokensProvider: Provider = {
  provide: PHANTOM_TOKENS,
  inject: [gatewayConfig.KEY, ServiceTokenProvider],
  useFactory: (
    environment: ConfigType<typeof gatewayConfig>,
    serviceToken: ServiceTokenProvider,
  ) =>
    environment.ACCESS_TOKEN_FORMAT === 'reference'
      ? new PhantomTokens(
          {
            introspectionUri: `${environment.AUTH_SERVICE_URL ?? environment.AUTH_ISSUER}/oauth/introspect`,
            timeoutMs: INTROSPECTION_TIMEOUT_MS,
          },
          serviceToken,
        )
      : null,
};
