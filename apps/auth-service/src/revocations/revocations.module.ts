import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule } from '../clock/clock.module';
import { KeysModule } from '../keys/keys.module';
import { Revocation } from './revocation.entity';
import { RevocationsController } from './revocations.controller';
import { RevocationsService } from './revocations.service';

/** The revocation log and GET /revocations, which resource services follow (ADR 0009). */
@Module({
  imports: [TypeOrmModule.forFeature([Revocation]), ClockModule, KeysModule],
  controllers: [RevocationsController],
  providers: [RevocationsService],
  exports: [RevocationsService],
})
export class RevocationsModule {}
