import { ValidateBy } from 'class-validator';

/** Hosts whose traffic never leaves the machine: plain http to them is fine anywhere. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** One DNS label, no dot: a name public DNS cannot answer (an IP address always has dots or colons). */
const SINGLE_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i;

export interface HttpsInProductionOptions {
  /**
   * Also accept http to a single-label host name, such as docker-compose's `auth-service`: for
   * service-to-service URLs on a private network, never for a URL that browsers or other
   * clients use.
   */
  internalHosts?: boolean;
}

/**
 * Whether `url` (one URL or origin) may be used when NODE_ENV=production: https, or http to a
 * loopback host, or with `internalHosts` to a single-label host. Anything else, a URL that does
 * not parse included, is left to the other validators of the variable.
 */
export function isHttpsOrLocal(url: string, options: HttpsInProductionOptions = {}): boolean {
  if (!URL.canParse(url)) return true;
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'http:') return true;
  if (LOOPBACK_HOSTS.has(hostname)) return true;
  return options.internalHosts === true && SINGLE_LABEL.test(hostname);
}

/**
 * With NODE_ENV=production, refuses http URLs (a string or a list of them) but to loopback hosts:
 * a token issuer, a key set or a browser origin reached over plain http can be read and altered
 * on the way. The service then refuses to start and names the variable. Other environments are
 * not checked.
 *
 * @example
 * ```ts
 * @HttpsInProduction()
 * ISSUER = 'http://127.0.0.1:3001';
 * ```
 */
export function HttpsInProduction(options: HttpsInProductionOptions = {}): PropertyDecorator {
  const allowed = options.internalHosts
    ? 'localhost, 127.0.0.1, [::1] or a single-label host of a private network (such as docker-compose’s auth-service)'
    : 'localhost, 127.0.0.1 or [::1]';
  return ValidateBy({
    name: 'httpsInProduction',
    validator: {
      validate: (value: unknown, args) => {
        if ((args?.object as { NODE_ENV?: unknown } | undefined)?.NODE_ENV !== 'production') {
          return true;
        }
        const urls: unknown[] = Array.isArray(value) ? value : [value];
        return urls.every((url) => typeof url !== 'string' || isHttpsOrLocal(url, options));
      },
      defaultMessage: () =>
        `must use https when NODE_ENV=production; plain http only to ${allowed}`,
    },
  });
}
