import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule } from '../clock/clock.module';
import { AuditEvent } from './audit-event.entity';
import { AuditMaintenance } from './audit-maintenance.service';
import { AuditService } from './audit.service';

/** Imported by each feature that records events, so its dependence on the log is visible. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent]), ClockModule],
  providers: [AuditService, AuditMaintenance],
  exports: [AuditService],
})
export class AuditModule {}
