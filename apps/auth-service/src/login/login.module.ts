import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { UsersModule } from '../users/users.module';
import { ClockModule } from '../clock/clock.module';
import { LoginThrottleModule } from './login-throttle.module';
import { LoginService } from './login.service';

@Module({
  imports: [LoginThrottleModule, UsersModule, AuditModule, ClockModule],
  providers: [LoginService],
  exports: [LoginService],
})
export class LoginModule {}
