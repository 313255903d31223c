import type { ConfigFactoryKeyHost } from '@nestjs/config';
import type { ServiceEnvironment } from './service-environment';

/**
 * What a service's `src/config/` exports: a `registerAs` factory whose value extends
 * ServiceEnvironment. Inject it with `@Inject(config.KEY) env: ConfigType<typeof config>`.
 */
export type ServiceConfig<T extends ServiceEnvironment = ServiceEnvironment> = (() => T) &
  ConfigFactoryKeyHost<T>;

/** The running service's validated environment, whatever its own class is. */
export const SERVICE_ENVIRONMENT = Symbol('SERVICE_ENVIRONMENT');
