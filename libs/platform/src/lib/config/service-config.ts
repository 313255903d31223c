import type { ServiceEnvironment } from './service-environment';

/**
 * What a service's `src/config/` exports: a `registerAs` factory whose value extends
 * ServiceEnvironment. Inject it with `@Inject(config.KEY) env: ConfigType<typeof config>`.
 */
export interface ServiceConfig<T extends ServiceEnvironment = ServiceEnvironment> {
  (): T;
  /** The token `registerAs` gives the factory, for `@Inject(config.KEY)`. */
  KEY: string | symbol;
}

/** The running service's validated environment, whatever its own class is. */
export const SERVICE_ENVIRONMENT = Symbol('SERVICE_ENVIRONMENT');
