import { Logger } from '@nestjs/common';
import type { FactoryProvider } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { authServiceConfig } from '../config/auth-service.config';

/** The 32-byte key that encrypts secrets at rest (signing keys) and derives server-side secrets. */
export const KEY_ENCRYPTION_KEY = Symbol('KEY_ENCRYPTION_KEY');

/**
 * KEY_ENCRYPTION_KEY when set (always in production: the config requires it). In development one
 * is generated once under DATA_DIR, so keys survive restarts; in tests a fresh one per app.
 */
export const keyEncryptionKeyProvider: FactoryProvider<Promise<Buffer>> = {
  provide: KEY_ENCRYPTION_KEY,
  inject: [authServiceConfig.KEY],
  useFactory: async (environment: ConfigType<typeof authServiceConfig>) => {
    const logger = new Logger('KeyEncryptionKey');
    if (environment.KEY_ENCRYPTION_KEY) {
      return Buffer.from(environment.KEY_ENCRYPTION_KEY, 'base64');
    }
    if (environment.NODE_ENV === 'test') return randomBytes(32);
    const file = join(environment.DATA_DIR, 'auth-service', 'key-encryption-key');
    const existing = await readFile(file, 'utf8').catch(() => undefined);
    if (existing) return Buffer.from(existing.trim(), 'base64');
    await mkdir(dirname(file), { recursive: true });
    const key = randomBytes(32);
    await writeFile(file, key.toString('base64'), { mode: 0o600 });
    logger.warn(
      `KEY_ENCRYPTION_KEY is not set: generated one for development in ${file}. ` +
        'Production requires KEY_ENCRYPTION_KEY (openssl rand -base64 32).',
    );
    return key;
  },
};
