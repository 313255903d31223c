import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuthModule, authOptionsFromEnvironment } from '@tessera/auth-resource-server';
import { ServiceCoreModule } from '@tessera/platform';
import { gatewayConfig } from './config/gateway.config';
import { EdgeAuthenticator } from './edge/edge-authenticator';
import { EdgeProxy, ROUTE_TABLE } from './edge/edge-proxy';
import { phantomTokensProvider } from './phantom/phantom-tokens.provider';
import { routedAudiences, routeTable } from './routes/route-table';

@Module({
  imports: [
    ServiceCoreModule.forRoot({ config: gatewayConfig }),
    // The same guard as every service: the edge verifies tokens for every audience it routes to,
    // and, as the `gateway` client (AUTH_CLIENT_SECRET), follows the revocation feed and, in
    // phantom-token mode, swaps reference tokens for their JWTs.
    AuthModule.forRootAsync({
      inject: [gatewayConfig.KEY],
      useFactory: (environment: ConfigType<typeof gatewayConfig>) => ({
        ...authOptionsFromEnvironment(environment, {
          clientScope:
            environment.ACCESS_TOKEN_FORMAT === 'reference'
              ? 'revocations:read tokens:phantom'
              : 'revocations:read',
        }),
        acceptedAudiences: routedAudiences(routeTable()),
      }),
    }),
  ],
  providers: [
    { provide: ROUTE_TABLE, useFactory: routeTable },
    phantomTokensProvider,
    EdgeAuthenticator,
    EdgeProxy,
  ],
})
export class AppModule {}
