import { registerAs } from '@nestjs/config';
import { withAuthEnvironment } from '@tessera/auth-resource-server';
import { ServiceEnvironment, validateEnvironment } from '@tessera/platform';

/**
 * Every variable resource-service reads; `.env.example` documents each one. The AUTH_* ones
 * come from `@tessera/auth`; without AUTH_CLIENT_SECRET, DELETE /notes also answers 503, since it
 * asks auth-service whether the token is still active.
 */
export class ResourceServiceEnvironment extends withAuthEnvironment(ServiceEnvironment, {
  audience: 'resource-service',
}) {
  override PORT = 3002;
}

/** The only place resource-service reads process.env. */
export const resourceServiceConfig = registerAs('resource-service', () =>
  validateEnvironment(ResourceServiceEnvironment, process.env),
);

/** Read only when the service runs its own embedded PostgreSQL (DATABASE_URL unset). */
export const DEVELOPMENT_ONLY_VARIABLES = ['DATA_DIR'];
