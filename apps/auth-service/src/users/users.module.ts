import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { ClockModule } from '../clock/clock.module';
import { DomainEventsModule } from '../events/domain-events.module';
import { LoginThrottleModule } from '../login/login-throttle.module';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([User]),
    AuditModule,
    LoginThrottleModule,
    ClockModule,
    DomainEventsModule,
  ],
  controllers: [UsersController],
  providers: [UsersService, PasswordHasher, PasswordPolicy],
  exports: [UsersService, PasswordHasher, PasswordPolicy],
})
export class UsersModule {}
