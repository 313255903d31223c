import { Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AuthorizationModule } from '../authorization/authorization.module';
import { LoginModule } from '../login/login.module';
import { MfaModule } from '../mfa/mfa.module';
import { UsersModule } from '../users/users.module';
import { AuthorizeController } from './authorize.controller';
import { CsrfGuard } from './csrf.guard';
import { PageCookies } from './page-cookies';
import { registerPagePlugins } from './page-plugins';
import { PageRenderer } from './page-renderer';
import { PagesController } from './pages.controller';
import { PagesService } from './pages.service';
import { SecondFactorPagesController } from './second-factor-pages.controller';
import { SignInResponder } from './sign-in.responder';

/** Registered while Nest builds the module graph: before any route, as Fastify wants plugins. */
const PAGE_PLUGINS = 'PAGE_PLUGINS';

/**
 * The hosted pages (sign in, sign up, consent, sign out, errors) and the browser-facing OAuth
 * endpoints, rendered on the server with Eta through @fastify/view. A new page is a template in
 * views/ that starts with `<% layout('./layout') %>`, and a route here.
 */
@Module({
  imports: [AuthorizationModule, LoginModule, MfaModule, UsersModule],
  controllers: [AuthorizeController, PagesController, SecondFactorPagesController],
  providers: [
    PageCookies,
    PageRenderer,
    PagesService,
    SignInResponder,
    CsrfGuard,
    {
      provide: PAGE_PLUGINS,
      inject: [HttpAdapterHost, PageCookies],
      useFactory: async (host: HttpAdapterHost, cookies: PageCookies) => {
        // A one-off command (create-admin, clients, migrate) runs without an HTTP server.
        if (!host.httpAdapter) return false;
        await registerPagePlugins(host.httpAdapter.getInstance<FastifyInstance>(), cookies);
        return true;
      },
    },
  ],
  exports: [PageRenderer, CsrfGuard, PageCookies],
})
export class PagesModule {}
