export interface HealthOptions {
  /** Whether readiness pings the service's database; a stateless service has none to ping. */
  database: boolean;
}

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');
