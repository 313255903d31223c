import type { HttpServiceEnvironment } from './service-environment';

/**
 * What a service's `src/config/` exports: a `registerAs` factory whose value extends
 * HttpServiceEnvironment (ServiceEnvironment for a service with a database). Inject it with `@Inject(config.KEY) env: ConfigType<typeof config>`.
 */
export interface ServiceConfig<T extends HttpServiceEnvironment = HttpServiceEnvironment> {
  (): T;
  /** The token `registerAs` gives the factory, for `@Inject(config.KEY)`. */
  KEY: string | symbol;
}

/** The running service's validated environment, whatever its own class is. */
export const SERVICE_ENVIRONMENT = Symbol('SERVICE_ENVIRONMENT');
