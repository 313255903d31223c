import { registerAs } from '@nestjs/config';
import { ServiceEnvironment, validateEnvironment } from '@tessera/platform';

/** Every variable auth-service reads; `.env.example` documents each one. */
export class AuthServiceEnvironment extends ServiceEnvironment {
  override PORT = 3001;
}

/** The only place auth-service reads process.env. */
export const authServiceConfig = registerAs('auth-service', () =>
  validateEnvironment(AuthServiceEnvironment, process.env),
);

/** Read only when the service runs its own embedded PostgreSQL (DATABASE_URL unset). */
export const DEVELOPMENT_ONLY_VARIABLES = ['DATA_DIR'];
