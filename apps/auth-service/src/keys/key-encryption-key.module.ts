import { Module } from '@nestjs/common';
import { KEY_ENCRYPTION_KEY, keyEncryptionKeyProvider } from './key-encryption-key.provider';

/**
 * The one KEY_ENCRYPTION_KEY of the service. Every module that needs it imports this module, so
 * Nest resolves the provider once: two copies could each generate a different development key.
 */
@Module({ providers: [keyEncryptionKeyProvider], exports: [KEY_ENCRYPTION_KEY] })
export class KeyEncryptionKeyModule {}
