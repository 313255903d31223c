import { registerAs } from '@nestjs/config';
import { ServiceEnvironment, validateEnvironment } from '@tessera/platform';

/** Every variable resource-service reads; `.env.example` documents each one. */
export class ResourceServiceEnvironment extends ServiceEnvironment {
  override PORT = 3002;
}

/** The only place resource-service reads process.env. */
export const resourceServiceConfig = registerAs('resource-service', () =>
  validateEnvironment(ResourceServiceEnvironment, process.env),
);

/** Read only when the service runs its own embedded PostgreSQL (DATABASE_URL unset). */
export const DEVELOPMENT_ONLY_VARIABLES = ['DATA_DIR'];
