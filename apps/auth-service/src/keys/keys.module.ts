import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule } from '../clock/clock.module';
import { DomainEventsModule } from '../events/domain-events.module';
import { IssuanceMetricsModule } from '../metrics/issuance-metrics.module';
import { AccessTokenService } from '../tokens/access-token.service';
import { IdTokenService } from '../tokens/id-token.service';
import { ReferenceToken } from '../tokens/reference-token.entity';
import { ReferenceTokens } from '../tokens/reference-tokens';
import { JwksController } from './jwks.controller';
import { KeyEncryption } from './key-encryption';
import { KeyEncryptionKeyModule } from './key-encryption-key.module';
import { KEY_ENCRYPTION_KEY } from './key-encryption-key.provider';
import { KeysService } from './keys.service';
import { SigningKey } from './signing-key.entity';

/**
 * Signing keys, the JWKS at `/.well-known/jwks.json`, and the access and ID tokens they sign. Its
 * entity is listed in database/entities.ts and its table made by database/migrations/.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([SigningKey, ReferenceToken]),
    ClockModule,
    DomainEventsModule,
    IssuanceMetricsModule,
    KeyEncryptionKeyModule,
  ],
  controllers: [JwksController],
  providers: [
    KeysService,
    AccessTokenService,
    IdTokenService,
    ReferenceTokens,
    {
      provide: KeyEncryption,
      inject: [KEY_ENCRYPTION_KEY],
      useFactory: (key: Buffer) => new KeyEncryption(key),
    },
  ],
  exports: [KeysService, AccessTokenService, IdTokenService, ReferenceTokens],
})
export class KeysModule {}
