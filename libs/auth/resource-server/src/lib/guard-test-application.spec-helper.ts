import { Controller, Get, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApplication, HttpErrorFilter, ServiceEnvironment } from '@tessera/platform';
import { Public } from '@tessera/auth-token';
import { AuthModule } from './auth.module';
import type { AuthModuleOptions } from './auth-module.options';
import { CurrentPrincipal } from './decorators/current-principal.decorator';
import { RequireAuthentication } from './decorators/require-authentication.decorator';
import { RequireVerifiedEmail } from './decorators/require-verified-email.decorator';
import { ACR_MULTI_FACTOR, Roles, Scopes } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';

@Controller()
class ExampleController {
  @Public()
  @Get('public')
  open() {
    return { open: true };
  }

  @Get('me')
  me(@CurrentPrincipal() principal: Principal) {
    return principal;
  }

  @Scopes('notes:read')
  @Get('notes')
  notes() {
    return { notes: [] };
  }

  @Roles('admin')
  @Get('admin')
  admin() {
    return { admin: true };
  }

  @Scopes('notes:write')
  @RequireAuthentication({ acr: ACR_MULTI_FACTOR, maxAge: 300 })
  @Get('step-up')
  stepUp() {
    return { stepped: true };
  }

  @Scopes('notes:write')
  @RequireVerifiedEmail()
  @Get('verified')
  verified() {
    return { verified: true };
  }
}

@Scopes('reports:read')
@Controller('reports')
class ScopedController {
  @Scopes('reports:export')
  @Get('export')
  export() {
    return { exported: true };
  }
}

@Module({ controllers: [ExampleController, ScopedController] })
class ExampleModule {}

export interface GuardTestApplication {
  app: NestFastifyApplication;
  url: string;
  close: () => Promise<void>;
}

/**
 * A small service guarded by AuthModule, on Fastify with the platform's HTTP wiring and error
 * filter, listening on a free loopback port: what a real service looks like to a client.
 */
export async function createGuardTestApplication(
  options: AuthModuleOptions | DynamicModule,
): Promise<GuardTestApplication> {
  const auth = 'module' in options ? options : AuthModule.forRoot(options);
  @Module({
    imports: [auth, ExampleModule],
    providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
  })
  class RootModule {}
  const environment = Object.assign(new ServiceEnvironment(), { LOG_LEVEL: 'warn' as const });
  const app = await createServiceApplication(RootModule, environment);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface Answer {
  status: number;
  challenge: string | null;
  body: Record<string, unknown>;
}

/** GET `path` with `authorization` as the header (none when undefined). */
export async function get(url: string, path: string, authorization?: string): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
