import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { KEY_ENCRYPTION_KEY } from '../keys/key-encryption-key.provider';
import { KeyEncryptionKeyModule } from '../keys/key-encryption-key.module';
import { ClockModule } from '../clock/clock.module';
import { IssuanceMetricsModule } from '../metrics/issuance-metrics.module';
import { RefreshToken } from './refresh-token.entity';
import { RefreshTokenCrypto } from './refresh-token.crypto';
import { Session } from './session.entity';
import { SessionsPruner } from './sessions-pruner.service';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/**
 * Sessions and their rotating refresh tokens; exports SessionsService. Its entities are listed in
 * database/entities.ts and its tables made by database/migrations/.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Session, RefreshToken]),
    ClockModule,
    IssuanceMetricsModule,
    KeyEncryptionKeyModule,
  ],
  providers: [
    SessionsService,
    SessionsRepository,
    SessionsPruner,
    {
      provide: RefreshTokenCrypto,
      inject: [KEY_ENCRYPTION_KEY],
      useFactory: (key: Buffer) => new RefreshTokenCrypto(key),
    },
  ],
  exports: [SessionsService],
})
export class SessionsModule {}
