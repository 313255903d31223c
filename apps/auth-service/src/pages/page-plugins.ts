import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifyView from '@fastify/view';
import { parse, serialize } from 'cookie';
import type { SerializeOptions } from 'cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Eta } from 'eta';
import { join } from 'node:path';
import type { PageCookies } from './page-cookies';

/**
 * The pages' templates and their one stylesheet: next to this file in the sources, copied next to
 * main.js in the bundle (webpack.config.js), so `__dirname/views` is right in both.
 */
export const VIEWS_DIRECTORY = join(__dirname, 'views');

/** The cookies of a request, parsed once by the hook below. */
export function cookiesOf(request: FastifyRequest): Record<string, string | undefined> {
  return (request as unknown as { cookies?: Record<string, string | undefined> }).cookies ?? {};
}

/** Sets a cookie on the reply; several calls set several cookies. */
export function setCookie(
  reply: FastifyReply,
  name: string,
  value: string,
  options: SerializeOptions,
): void {
  reply.header('set-cookie', serialize(name, value, options));
}

/**
 * Registers the hosted pages' Fastify plugins: @fastify/csrf-protection (double-submit tokens
 * whose secret lives in an HttpOnly cookie) and @fastify/view with Eta (templates escape by
 * default). It runs while Nest builds the module graph, before any route exists, so the hook
 * applies to every route like any plugin registered first.
 *
 * The cookies it needs (`request.cookies`, `reply.setCookie`) come from `cookie`, the parser
 * @fastify/cookie wraps, in the few lines below: @fastify/cookie 11 loads `cookie` with a dynamic
 * `import()`, which Jest's CommonJS runtime refuses (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG),
 * so the service could not be tested in process with it.
 */
export async function registerPagePlugins(
  fastify: FastifyInstance,
  cookies: PageCookies,
): Promise<void> {
  await fastify.register(withoutEncapsulation(pageCookieParsing));
  await fastify.register(fastifyCsrfProtection, {
    cookieKey: cookies.csrfName,
    cookieOpts: cookies.attributes(),
    // The token comes in the form field `_csrf` only: no header fallback a script might use.
    getToken: (request) => (request.body as Record<string, string> | undefined)?.['_csrf'],
  });
  await fastify.register(fastifyView, {
    engine: { eta: new Eta({ views: VIEWS_DIRECTORY, autoEscape: true, cache: true }) },
    root: VIEWS_DIRECTORY,
    production: true,
  });
}

async function pageCookieParsing(fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest('cookies', null as never);
  fastify.decorateReply(
    'setCookie',
    function (this: FastifyReply, name: string, value: string, options?: object) {
      // Only @fastify/csrf-protection calls it, with PageCookies.attributes().
      setCookie(this, name, value, (options ?? {}) as SerializeOptions);
      return this;
    },
  );
  fastify.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.cookie;
    (request as unknown as { cookies: Record<string, string | undefined> }).cookies = header
      ? parse(header)
      : {};
    done();
  });
}

/** What fastify-plugin does: the plugin's decorators and hooks apply to the whole server. */
function withoutEncapsulation<T extends (fastify: FastifyInstance) => Promise<void>>(plugin: T): T {
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
